"""The local HTTP API: turns each request into an API Gateway HTTP API (payload 2.0) event.

Routes come from the HttpApi events in template.yaml; the routed function runs in-process.
"""

from __future__ import annotations

import base64
import time
import uuid
from typing import Any

from werkzeug.wrappers import Request, Response

from local.lambdas import InProcessLambdas
from local.template import Route

# API Gateway's own ceiling on a request body; the handler enforces SaveDesk's smaller one.
API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
_TEXT_TYPES = ("text/", "application/json", "application/x-www-form-urlencoded", "application/xml")


def http_api_event(
    method: str,
    path: str,
    headers: dict[str, str],
    body: str,
    *,
    base64_encoded: bool = False,
    route_path: str | None = None,
    query: str = "",
    host: str = "localhost",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event; `body` is text, or base64 when `base64_encoded`."""
    route_key = f"{method} {route_path or path}"
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": base64_encoded,
        "body": body,
    }


def to_http_api_event(request: Request, route: Route, body: bytes) -> dict[str, Any]:
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    content_type = headers.get("content-type", "")
    is_text = content_type.startswith(_TEXT_TYPES) or not content_type
    try:
        text = body.decode("utf-8") if is_text else None
    except UnicodeDecodeError:
        text = None
    event = http_api_event(
        request.method,
        request.path,
        headers,
        text if text is not None else base64.b64encode(body).decode("ascii"),
        base64_encoded=text is None,
        route_path=route.path,
        query=request.query_string.decode("latin-1"),
        host=request.host,
        source_ip=request.remote_addr or "127.0.0.1",
    )
    if request.args:
        event["queryStringParameters"] = {k: ",".join(request.args.getlist(k)) for k in request.args}
    return event


class LocalHttpApi:
    def __init__(self, routes: list[Route], lambdas: InProcessLambdas, function_names: dict[str, str]) -> None:
        self.routes = {(r.method, r.path): r for r in routes}
        self.lambdas = lambdas
        self.function_names = function_names  # logical id -> function name

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self.dispatch(request)
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        route = self.routes.get((request.method, request.path))
        if route is None:
            return Response('{"message":"Not Found"}', status=404, content_type="application/json")
        body = request.get_data(cache=False)
        if len(body) > API_GATEWAY_MAX_BODY:
            return Response('{"message":"Request Entity Too Large"}', status=413, content_type="application/json")
        event = to_http_api_event(request, route, body)
        result, error = self.lambdas.invoke(self.function_names[route.function], event)
        if error is not None:
            # What API Gateway answers when the integration fails.
            return Response('{"message":"Internal Server Error"}', status=500, content_type="application/json")
        if not isinstance(result, dict) or "statusCode" not in result:
            return Response(str(result), status=200, content_type="application/json")
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode("utf-8")
        response = Response(data, status=int(result["statusCode"]))
        for key, value in (result.get("headers") or {}).items():
            response.headers[key] = value
        for key, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                response.headers.add(key, value)
        return response
