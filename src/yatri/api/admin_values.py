"""The operator's trip fields, from the API's models to the admin services' typed values.

Each field is checked by its admin rule (services/admin_catalogue/forms.py) inside the
pydantic model (`rule`), so every problem is reported at once, with the pages' messages;
`trip_values` hands the checked fields over as `TripValues`, the destination's slug as its id.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import AfterValidator, BaseModel, ValidationInfo
from pydantic_core import PydanticCustomError

from yatri.errors import ValidationError
from yatri.models import Destination
from yatri.parsing import FieldError
from yatri.services.admin_catalogue.forms import (
    TRIP_REQUIRED,
    TRIPS,
    Field,
    GroupTier,
    RefundTier,
    TripValues,
)
from yatri.services.catalogue import is_slug

ADMIN_NAMES = {"price_paise": "price"}  # API name -> the admin field's name, where they differ
_ContextKey = web.RequestKey("trip_context", dict)


def admin_field(name: str) -> Field:
    return TRIPS.field(ADMIN_NAMES.get(name, name))


async def trip_context(request: web.Request) -> dict:
    """What checking a trip body needs, read once per request: the destinations, by slug."""
    if _ContextKey not in request:
        request[_ContextKey] = {"destinations": dict(await Destination.all().values_list("slug", "id"))}
    return request[_ContextKey]


def typed(name: str, value: Any, context: dict | None) -> Any:
    """An API value as the admin field's typed value."""
    if name == "destination":
        slug = value.strip().lower()
        found = (context or {}).get("destinations", {}).get(slug) if is_slug(slug, 80) else None
        if found is None:
            raise FieldError("Use the slug of an existing destination.")
        return found
    if name == "cancellation_policy":
        return [RefundTier(tier.min_days, tier.percent) for tier in value]
    if name == "group_discounts":
        return [GroupTier(tier.min_travellers, tier.percent) for tier in value]
    return value


def rule(name: str) -> AfterValidator:
    """Annotated[..., rule("days")]: the admin field's rule, its message as the field's."""

    def check(value: Any, info: ValidationInfo) -> Any:
        try:
            admin_field(name).check(typed(name, value, info.context))
        except FieldError as exc:
            raise PydanticCustomError("rule", str(exc)) from None
        return value

    return AfterValidator(check)


def set_fields(body: BaseModel) -> list[str]:
    """The fields this body sets (null leaves one as it is)."""
    return [name for name in type(body).model_fields if name in body.model_fields_set and getattr(body, name) is not None]


def needed_by_new_trip(name: str) -> bool:
    return admin_field(name).name in TRIP_REQUIRED


def trip_values(body: BaseModel, names: list[str], context: dict) -> TripValues:
    return TripValues(**{admin_field(name).column: typed(name, getattr(body, name), context) for name in names})


def api_names(exc: ValidationError) -> ValidationError:
    """A service's field names (`price`) as the API's (`price_paise`)."""
    api = {admin: name for name, admin in ADMIN_NAMES.items()}
    return ValidationError({api.get(key, key): message for key, message in exc.errors.items()}, exc.detail)
