"""The API described: ``GET /openapi.json`` (OpenAPI 3.1) and ``GET /docs``, a page drawn from it
on the server (no external scripts or styles, so it works offline)."""

from __future__ import annotations

import dataclasses
import html

from starlette.responses import HTMLResponse, JSONResponse

from tinta.serve.pictures import Options

_ERROR = {"description": "JSON error",
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_IMAGE = {"type": "string", "format": "binary"}
# the fields of POST /colorize and POST /sessions/{id}/render: the request options' own descriptions
_FIELDS = {f.name: (f.metadata["schema"], f.metadata["help"]) for f in dataclasses.fields(Options)}


def _params() -> list[dict]:
    return [{"name": k, "in": "query", "required": False, "schema": {"type": t}, "description": d}
            for k, (t, d) in _FIELDS.items()]


def _colorize() -> dict:
    form = {"type": "object", "properties": {
        "file": {**_IMAGE, "description": "the picture"},
        "reference": {**_IMAGE, "description": "optional: a photo whose colours the result should follow"},
        **{k: {"type": "string", "description": d} for k, (_, d) in _FIELDS.items()}}, "required": ["file"]}
    return {"post": {
        "summary": "Colourize one picture",
        "description": "Send the picture as the raw body (any content type but multipart) or as the form field "
                       "`file`. Options as query parameters or form fields. The answer is the picture "
                       "(EXIF and ICC profile kept), or a JSON error. 503 with Retry-After when the server is busy.",
        "parameters": _params(),
        "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": _IMAGE},
                                                      "multipart/form-data": {"schema": form}}},
        "responses": {"200": {"description": "the colour picture", "content": {
            "image/jpeg": {"schema": _IMAGE}, "image/webp": {"schema": _IMAGE}, "image/png": {"schema": _IMAGE}}},
            "400": _ERROR, "403": _ERROR, "408": _ERROR, "413": _ERROR, "421": _ERROR, "503": _ERROR}}}


def _get(summary: str, media: str = "application/json") -> dict:
    return {"get": {"summary": summary, "responses": {"200": {"description": "OK", "content": {media: {}}},
                                                       "404": _ERROR}}}


SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "tinta serve", "version": "1",
             "description": "Learned image colourization on this machine: grey photo in, colour photo out."},
    "paths": {
        "/colorize": _colorize(),
        "/sessions": {"post": {
            "summary": "Keep a picture on the server for quick edits",
            "description": "The picture as the raw body or the form field `file` (and `name`). Answers 201 with "
                           "JSON: id, width, height, frames, partial (only the first frame is colourized), colour "
                           "(the photo has colours of its own), note. Kept pictures are few and freed when unused.",
            "requestBody": {"required": True, "content": {"application/octet-stream": {"schema": _IMAGE}}},
            "responses": {"201": {"description": "the kept picture", "content": {"application/json": {}}},
                          "400": _ERROR, "413": _ERROR, "503": _ERROR}}},
        "/sessions/{id}/render": {"post": {
            "summary": "Colour a kept picture with these settings (no upload)",
            "description": f"The fields of POST /colorize ({', '.join(_FIELDS)}, file `reference`), plus "
                           "`preview`: the long side to paint at (the page sends the size it shows; 0 or none: "
                           "full size). A preview of a larger picture is a JPEG. Only what "
                           "changed is re-run. 404 once the picture was freed: send it again.",
            "parameters": _params() + [{"name": "preview", "in": "query", "required": False,
                                        "schema": {"type": "integer"}, "description": "long side of the answer"}],
            "responses": {"200": {"description": "the colour picture", "content": {"image/jpeg": {}}},
                          "400": _ERROR, "404": _ERROR, "413": _ERROR, "503": _ERROR}}},
        "/sessions/{id}/download": _get("The full-size picture of the kept picture's latest render", "image/jpeg"),
        "/sessions/{id}/input": _get("The kept picture's lightness as a grey JPEG (`size`: long side)", "image/jpeg"),
        "/sessions/{id}": {**_get("The kept picture's description (JSON)"),
                           "delete": {"summary": "Free a kept picture", "responses": {"200": {"description": "OK"}}}},
        "/queue/{ticket}": _get("Where a request sent with the field `ticket` stands: its place in the queue"),
        "/zip": {"post": {"summary": "Pack several files (form field `file`, repeated) into one zip",
                          "requestBody": {"content": {"multipart/form-data": {"schema": {
                              "type": "object", "properties": {"file": {"type": "array", "items": _IMAGE}}}}}},
                          "responses": {"200": {"description": "the zip", "content": {"application/zip": {}}},
                                        "400": _ERROR, "413": _ERROR}}},
        "/models": _get("The models on offer: name, description, render size, whether it takes point hints"),
        "/models/{name}/card": _get("A shipped model's card (Markdown)", "text/markdown"),
        "/examples": _get("The bundled example photos"),
        "/examples/{name}": _get("One example photo", "image/jpeg"),
        "/health": _get("Liveness and load: running, queued, done, abandoned and refused requests"),
        "/": _get("The web page", "text/html"),
    },
    "components": {"schemas": {"Error": {"type": "object", "properties": {"error": {"type": "string"}}}}},
}


async def schema(request) -> JSONResponse:
    return JSONResponse(SPEC)


def _operation(path: str, method: str, op: dict) -> str:
    named = [(p["name"], p["description"]) for p in op.get("parameters", [])]
    form = op.get("requestBody", {}).get("content", {}).get("multipart/form-data", {}).get("schema", {})
    named += [(k, f"(form file) {v.get('description', '')}") for k, v in form.get("properties", {}).items()
              if v.get("format") == "binary"]
    rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(d)}</td></tr>" for k, d in named)
    table = f"<table><tr><th>field</th><th>meaning</th></tr>{rows}</table>" if rows else ""
    codes = ", ".join(op.get("responses", {}))
    return (f"<section><h2><code>{method.upper()} {html.escape(path)}</code></h2><p>{html.escape(op['summary'])}</p>"
            f"<p>{html.escape(op.get('description', ''))}</p>{table}<p class=codes>answers: {codes}</p></section>")


EXAMPLES = """<h2>Examples</h2><pre>
curl --data-binary @photo.jpg '{base}/colorize?saturation=1.2' -o colour.jpg
curl -F file=@photo.jpg -F format=webp {base}/colorize -o colour.webp
curl -F file=@photo.jpg -F model=guided -F 'hints=[{{"x":120,"y":80,"color":"#c03020"}}]' \\
     {base}/colorize -o hinted.jpg
curl -F file=@photo.jpg -F reference=@colours.jpg {base}/colorize -o like.jpg
curl -F file=@photo.jpg -F palette='#c03020,#2050a0' {base}/colorize -o palette.jpg</pre>"""


async def docs(request) -> HTMLResponse:
    body = "".join(_operation(path, m, op) for path, ops in SPEC["paths"].items() for m, op in ops.items())
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<title>tinta serve: API</title><link rel=stylesheet href=/static/style.css>"
        f"<main class=docs><h1>tinta serve: the HTTP API</h1><p>Machine-readable: <a href=/openapi.json>"
        f"/openapi.json</a> (OpenAPI 3.1). Errors are JSON: <code>{{\"error\": \"...\"}}</code>.</p>"
        f"{EXAMPLES.format(base=html.escape(_base(request)))}{body}</main></html>")


def _base(request) -> str:
    """This server's address as the browser reached it (the Host header was checked by security.py)."""
    return f"{request.url.scheme}://{request.headers.get('host') or request.url.netloc}"
