"""The OpenAPI document parses, covers every API route and method, and agrees
with what the parsers accept."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from monitor.api.schemas import AMENDMENT, CONTRACT_CREATE, CONTRACT_UPDATE, FUNDING_LINE

IGNORED_METHODS = {"HEAD", "OPTIONS"}
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    parsed: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return parsed


def api_routes(app: Flask) -> dict[str, set[str]]:
    """Every route on the API blueprint, as OpenAPI paths and methods."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        assert rule.rule.startswith("/api/v1/")
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        routes.setdefault(path, set()).update(
            m.lower() for m in rule.methods or () if m not in IGNORED_METHODS
        )
    return routes


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if "$ref" in node else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in refs(item)]
    return []


def test_document_is_openapi_3_1(app: Flask, client: FlaskClient) -> None:
    doc = document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] and doc["info"]["version"]
    assert doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearerAuth": []}]


def test_every_route_and_method_is_documented(app: Flask, client: FlaskClient) -> None:
    doc = document(client)
    routes = api_routes(app)
    assert len(routes) >= 7
    documented = {path: {m for m in item if m in HTTP_METHODS} for path, item in doc["paths"].items()}
    assert documented == routes


def test_every_reference_resolves(client: FlaskClient) -> None:
    doc = document(client)
    found = refs(doc)
    assert found
    for ref in found:
        assert ref.startswith("#/"), ref
        node: Any = doc
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_path_parameters_and_responses(client: FlaskClient) -> None:
    doc = document(client)
    for path, item in doc["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"{([a-z_]+)}", path)), path
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["operationId"] and operation["summary"], (path, method)
            codes = set(operation["responses"])
            assert any(code.startswith("2") for code in codes), (path, method)
            if path != "/openapi.json":
                assert {"401", "500"} <= codes, (path, method)
            if method in ("post", "patch"):
                assert {"400", "403", "413", "415", "422"} <= codes, (path, method)
                assert operation["requestBody"]["required"] is True


def test_error_shape_is_documented(client: FlaskClient) -> None:
    schemas = document(client)["components"]["schemas"]
    error = schemas["Error"]
    assert error["required"] == ["message"]
    assert error["properties"]["errors"]["items"]["required"] == ["field", "message"]


def test_request_bodies_match_the_parsers(client: FlaskClient) -> None:
    schemas = document(client)["components"]["schemas"]
    for name, fields, partial in (
        ("ContractCreate", CONTRACT_CREATE, False),
        ("ContractUpdate", CONTRACT_UPDATE, True),
        ("FundingLineCreate", FUNDING_LINE, False),
        ("FundingLineUpdate", FUNDING_LINE, True),
        ("AmendmentCreate", AMENDMENT, False),
    ):
        schema = schemas[name]
        assert schema["additionalProperties"] is False
        assert set(schema["properties"]) == {f.name for f in fields}
        required = [f.name for f in fields if f.required and not partial]
        assert schema.get("required", []) == required, name
    assert "option_months" not in schemas["ContractUpdate"]["properties"]
    assert schemas["ContractCreate"]["properties"]["reference"]["maxLength"] == 40


def test_list_parameters_are_the_filters_the_api_accepts(client: FlaskClient) -> None:
    from monitor.api.contracts import LIST_PARAMETERS

    operation = document(client)["paths"]["/contracts"]["get"]
    assert [p["name"] for p in operation["parameters"]] == list(LIST_PARAMETERS)


def test_operations_whose_parameters_are_checked_declare_422(client: FlaskClient) -> None:
    # check_parameters refuses a bad query parameter, or a path parameter
    # that is not a whole-number id, with 422: the operation must say so.
    for path, item in document(client)["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            checked = [p for p in parameters if p["in"] == "query" or p["schema"].get("type") != "integer"]
            if checked:
                assert "422" in operation["responses"], (path, method)


def test_every_route_finds_its_operation_for_the_parameter_check(app: Flask) -> None:
    from monitor.api.openapi import document_path, operation_parameters

    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in (rule.methods or set()) - IGNORED_METHODS:
            assert operation_parameters(document_path(rule.rule), method.lower()) is not None, rule.rule


def test_operations_with_ids_in_the_path_declare_404(client: FlaskClient) -> None:
    for path, item in document(client)["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS and "{" in path:
                assert "404" in operation["responses"], (path, method)
