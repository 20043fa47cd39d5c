"""The OpenAPI document is served and generated from the routes' own models."""

from __future__ import annotations


def test_openapi_document_lists_every_route_with_its_models(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, method in [
        ("/api/v1/auth/login", "post"),
        ("/api/v1/auth/refresh", "post"),
        ("/api/v1/auth/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/users", "post"),
        ("/api/v1/users", "get"),
        ("/api/v1/users/{user_id}", "patch"),
        ("/api/v1/me/password", "post"),
        ("/api/v1/users/{user_id}/password", "post"),
        ("/api/v1/health", "get"),
        ("/api/v1/api-keys", "post"),
        ("/api/v1/api-keys", "get"),
        ("/api/v1/api-keys/{key_id}", "delete"),
        ("/api/v1/api-keys/{key_id}/rotate", "post"),
        ("/api/v1/messages", "post"),
        ("/api/v1/messages", "get"),
        ("/api/v1/messages/{message_id}", "get"),
    ]:
        assert method in paths[path], (path, method)
    login = paths["/api/v1/auth/login"]["post"]
    assert "requestBody" in login and "200" in login["responses"] and "401" in login["responses"]
    schemas = document["components"]["schemas"]
    assert any(name.startswith("LoginRequest") for name in schemas)
    assert any(name.startswith("TokenPair") for name in schemas)
    assert set(document["components"]["securitySchemes"]) == {"bearerAuth", "apiKey"}
    assert paths["/api/v1/me"]["get"]["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    # Only a user's own access token changes a password: no API key.
    change = paths["/api/v1/me/password"]["post"]
    assert change["security"] == [{"bearerAuth": []}]
    assert {"200", "400", "401", "403", "429"} <= set(change["responses"])
    assert paths["/api/v1/users/{user_id}/password"]["post"]["security"] == [{"bearerAuth": []}]
    assert {"204", "400", "403", "404"} <= set(paths["/api/v1/users/{user_id}/password"]["post"]["responses"])


def test_query_parameters_and_security_of_messages_are_documented(client):
    document = client.get("/api/v1/openapi.json").get_json()
    listing = document["paths"]["/api/v1/messages"]["get"]
    assert {parameter["name"] for parameter in listing["parameters"]} >= {"limit", "cursor"}
    assert listing["security"] == [{"bearerAuth": []}, {"apiKey": []}]
    assert document["paths"]["/api/v1/api-keys"]["post"]["security"] == [{"bearerAuth": []}]


def test_two_factor_answers_are_documented(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    # 401 mfa_required or invalid_credentials, 403 mfa_enrollment_required, 503 mfa_unavailable.
    assert {"200", "400", "401", "403", "429", "503"} <= set(paths["/api/v1/auth/login"]["post"]["responses"])
    assert {"200", "401", "403"} <= set(paths["/api/v1/auth/refresh"]["post"]["responses"])
    for path, success in [("", "201"), ("/confirm", "200"), ("/disable", "204")]:
        operation = paths[f"/api/v1/me/mfa/totp{path}"]["post"]
        assert {success, "401", "403", "503"} <= set(operation["responses"]), path
        assert operation["security"] == [{"bearerAuth": []}]
