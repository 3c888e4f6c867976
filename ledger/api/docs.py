"""Interactive API docs that work with no network: Swagger UI served from the installed package.

FastAPI's own `/docs` loads Swagger UI from a CDN; a sandbox on a bank's
closed network has none. The assets come from the `fastapi-swagger`
distribution (a current Swagger UI, which reads OpenAPI 3.1), and are served
here under `/docs/assets/`.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, Response

ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def mount(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title}: docs",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        data = resources.files("fastapi_swagger.resources").joinpath(name).read_bytes()
        return Response(data, media_type=ASSETS[name], headers={"Cache-Control": "public, max-age=86400"})
