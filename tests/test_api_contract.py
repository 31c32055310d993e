"""The published document is generated from the API's models and fits generators; every
/api/ answer in the suite is checked against it (tests/contract.py), here over the demo
data's departures of every state: open, filling fast, closed, sold out, cancelled."""

from aiohttp import web

from yatri.app import create_app
from yatri.demo import ADMIN_EMAIL, ADMIN_PASSWORD, load_demo_data
from yatri.models import Trip

from tests.api_helpers import bearer_for
from tests.contract import ContractFailuresKey


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from _walk(value, f"{path}/{n}")


async def test_the_document_fits_client_generators(client):
    doc = await (await client.get("/api/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    for path, node in _walk(doc):
        ref = node.get("$ref")
        if ref is not None:  # a whole component, never a part of one
            assert ref.startswith("#/components/schemas/") and ref.count("/") == 3 and ref.rsplit("/", 1)[1] in schemas, path
        assert not ("allOf" in node and "properties" in node), f"an inline object beside allOf at {path}"
        if node.get("type") == "array":
            assert "items" in node, f"an array without items at {path}"
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) == len(operations)
    # The enums are the code's: a closed departure's state is allowed.
    assert set(schemas["SaleState"]["enum"]) == {"available", "filling_fast", "sold_out", "closed"}
    assert set(schemas["DepartureState"]["enum"]) == {"open", "closed", "cancelled"}
    assert "pending_payment" in schemas["BookingStatus"]["enum"]


async def test_departures_of_every_state_answer_as_documented(client, app):
    await load_demo_data()
    states = set()
    for slug in await Trip.filter(is_published=True).values_list("slug", flat=True):
        response = await client.get(f"/api/v1/trips/{slug}")
        assert response.status == 200
        states |= {d["state"] for d in (await response.json())["departures"]}
    assert {"available", "filling_fast", "sold_out", "closed"} <= states

    auth = await bearer_for(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    admin_states = set()
    for trip_id in await Trip.all().values_list("id", flat=True):
        listing = await (await client.get(f"/api/v1/admin/trips/{trip_id}/departures", headers=auth)).json()
        admin_states |= {d["state"] for d in listing["upcoming"] + listing["past"]}
    assert admin_states == {"open", "closed", "cancelled"}
    assert app[ContractFailuresKey] == []


async def test_a_response_the_document_does_not_allow_is_caught(aiohttp_client, settings):
    # An answer as a drifted serialiser would give it, from inside the checker's middleware.
    @web.middleware
    async def drifted(request, handler):
        if request.path == "/api/v1/destinations":
            return web.json_response({"items": [{"slug": 5}]})
        return await handler(request)

    app = create_app(settings)
    app.middlewares.append(drifted)
    client = await aiohttp_client(app)  # which checks every answer (tests/conftest.py)
    assert (await client.get("/api/v1/destinations")).status == 200
    failures = app[ContractFailuresKey]
    assert failures and all(f.startswith("GET /api/v1/destinations -> 200: /items/0") for f in failures), failures
    failures.clear()  # caught on purpose: the fixture's own check passes
