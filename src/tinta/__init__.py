"""tinta: learned image colourization. Grey photo in, plausible colour photo out."""

__version__ = "0.1.0"

__all__ = ["__version__"]
