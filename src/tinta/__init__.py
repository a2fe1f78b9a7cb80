"""tinta: learned image colourization. Grey photo in, plausible colour photo out.

    import tinta
    tinta.colorize("grey.jpg").save("colour.png")        # shipped default model
    c = tinta.load_model("default")                      # reusable, for batches
    c("a.jpg", saturation=1.2)
    tinta.colorize_video("film.mp4", "out/film.mp4")     # a clip: steady colours, sound kept
    tinta.colorize_files(["scans/"], "out/", tinta.ColorizeOptions(model="vivid"))  # what `tinta colorize` does
"""

__version__ = "0.1.0"

__all__ = ["ColorizeOptions", "__version__", "colorize", "colorize_files", "colorize_video", "load_model"]


def __getattr__(name):  # keep `import tinta` light: torch loads on first use
    if name in ("colorize", "load_model", "Colorizer"):
        from tinta import inference

        return getattr(inference, name)
    if name in ("colorize_files", "ColorizeOptions", "Summary"):
        from tinta import batch

        return getattr(batch, name)
    if name == "colorize_video":
        from tinta.video import pipeline

        return pipeline.colorize_video
    raise AttributeError(name)
