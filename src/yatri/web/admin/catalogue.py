"""/admin/trips and /admin/destinations: lists, create, inline editing, publishing,
itinerary and photos.

Inline editing: a field's display fragment links to its edit form; HTMX swaps the form in
(the same link opens a plain edit page without JavaScript). Saving answers with the
display fragment, or the form again with the error or the conflict in place (422, 409).
Every other change answers HTMX with its section's fragment and a plain form post with a
redirect back to the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from yatri.errors import ValidationError
from yatri.keys import MediaKey, SettingsKey
from yatri.models import Destination
from yatri.parsing import record_id
from yatri.services.admin_catalogue import forms as fields
from yatri.services.admin_catalogue import gallery, itinerary, records
from yatri.services.admin_catalogue.forms import DESTINATIONS, TRIPS, Entity
from yatri.services.admin_catalogue.records import EditConflict
from yatri.web.admin import forms
from yatri.web.admin.common import admin as current_admin
from yatri.web.auth import flash
from yatri.web.forms import read_form
from yatri.web.render import is_htmx, render

SECTIONS = {"trip": "trips", "destination": "destinations"}


@dataclass(frozen=True)
class FieldView:
    """What the field fragments need about one field of one record."""

    spec: fields.Field
    text: str
    value: str
    version: int
    base: str
    page_url: str
    choices: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def label(self) -> str:
        return self.spec.label

    @property
    def edit_url(self) -> str:
        return f"{self.page_url}/fields/{self.name}/edit"

    @property
    def display_url(self) -> str:
        return f"{self.page_url}/fields/{self.name}"

    @property
    def save_url(self) -> str:
        return self.display_url


def _list_url(entity: Entity) -> str:
    return f"/admin/{SECTIONS[entity.name]}"


def _page_url(entity: Entity, record: Any) -> str:
    return f"{_list_url(entity)}/{record.id}"


async def _destination_choices() -> tuple[tuple[str, str], ...]:
    return tuple((str(d.id), d.name) for d in await Destination.all().order_by("name"))


async def field_view(entity: Entity, record: Any, name: str, *, with_choices: bool = False) -> FieldView:
    choices = await _destination_choices() if with_choices and entity is TRIPS and name == "destination" else ()
    return FieldView(
        spec=entity.field(name), text=fields.display(entity, record, name), value=fields.form_value(entity, record, name),
        version=record.version, base=fields.base(entity, record, name), page_url=_page_url(entity, record), choices=choices,
    )  # fmt: skip


def _context(entity: Entity, **extra: Any) -> dict:
    return {"entity": entity, "section": SECTIONS[entity.name], "list_url": _list_url(entity), **extra}


def _heading(entity: Entity, record: Any) -> str:
    return getattr(record, entity.heading)


# ---------------------------------------------------------------- lists and create


async def trip_list(request: web.Request) -> web.Response:
    status = request.query.get("status", "all")
    status = status if status in records.STATUSES else "all"
    q = request.query.get("q", "")
    found = await records.list_trips(q, status)
    context = _context(TRIPS, heading="Trips", records=found, q=q, status=status, statuses=records.STATUSES)
    return render(request, "admin/catalogue_list.html", context)


async def destination_list(request: web.Request) -> web.Response:
    q = request.query.get("q", "")
    found = await records.list_destinations(q)
    context = _context(DESTINATIONS, heading="Destinations", records=found, q=q, status="", statuses={})
    return render(request, "admin/catalogue_list.html", context)


def create_page(entity: Entity):
    async def handler(request: web.Request) -> web.Response:
        return await _create_form(request, entity, {}, {})

    return handler


def create(entity: Entity):
    async def handler(request: web.Request) -> web.Response:
        form = await read_form(request)
        try:
            values = records.with_site_rate(entity, await forms.new_record(entity, form), request.app[SettingsKey].gst_percent)
            record = await records.create(entity, values, current_admin(request))
        except ValidationError as exc:
            return await _create_form(request, entity, form, exc.errors, status=422)
        await flash(request, f"Created “{_heading(entity, record)}”.")
        raise web.HTTPSeeOther(_page_url(entity, record))

    return handler


async def _create_form(request: web.Request, entity: Entity, form, errors: dict, status: int = 200) -> web.Response:
    choices = {"destination": await _destination_choices()} if entity is TRIPS else {}
    specs = [entity.fields[name] for name in entity.required]
    context = _context(entity, specs=specs, form={k: form.get(k, "") for k in entity.required}, errors=errors, choices=choices)
    return render(request, "admin/catalogue_new.html", context, status=status)


# ---------------------------------------------------------------- the edit page


def edit_page(entity: Entity):
    async def handler(request: web.Request) -> web.Response:
        record = await records.get(entity, request.match_info["id"])
        return await _edit_page(request, entity, record)

    return handler


async def _edit_page(request: web.Request, entity: Entity, record: Any, **extra: Any) -> web.Response:
    fields = [await field_view(entity, record, name) for name in entity.fields]
    trips = await record.trips.all().order_by("title") if entity is DESTINATIONS else []
    context = _context(entity, heading=_heading(entity, record), fields=fields, trips=trips, **_sections(entity, record, **extra))
    return render(request, "admin/catalogue_edit.html", context)


def _sections(entity: Entity, record: Any, **extra: Any) -> dict:
    """What the publish, itinerary and images fragments need."""
    context = {"record": record, "page_url": _page_url(entity, record), "errors": {}, "typed": None, "conflict": None, "alt": ""}
    if entity is TRIPS:
        context["itinerary_base"] = fields.base(TRIPS, record, "itinerary")
    return {**context, **extra}


def field_display(entity: Entity):
    """The display fragment (Cancel); without HTMX, back to the page at that field."""

    async def handler(request: web.Request) -> web.Response:
        record = await records.get(entity, request.match_info["id"])
        name = request.match_info["field"]
        view = await field_view(entity, record, name)
        if not is_htmx(request):
            raise web.HTTPSeeOther(f"{view.page_url}#field-{name}")
        return render(request, "fragments/admin/field.html", {"f": view})

    return handler


def field_edit(entity: Entity):
    async def handler(request: web.Request) -> web.Response:
        record = await records.get(entity, request.match_info["id"])
        view = await field_view(entity, record, request.match_info["field"], with_choices=True)
        return _field_form(request, entity, record, view, view.value)

    return handler


def _field_form(request: web.Request, entity: Entity, record: Any, view: FieldView, value: str, *,
                error: str = "", conflict: EditConflict | None = None, status: int = 200) -> web.Response:  # fmt: skip
    context = _context(entity, f=view, value=value, error=error, conflict=conflict, heading=_heading(entity, record), inline=is_htmx(request))
    return render(request, "admin/catalogue_field.html", context, fragment="fragments/admin/field_form.html", status=status)


def field_save(entity: Entity):
    async def handler(request: web.Request) -> web.Response:
        record_id, name = request.match_info["id"], request.match_info["field"]
        entity.field(name)  # an unknown field is a 404 before anything else
        form = await read_form(request)
        raw = str(form.get(name, ""))
        record = await records.get(entity, record_id)
        try:
            values = forms.field_values(entity, name, raw)
            record = await records.update_fields(entity, record.id, values, forms.seen(form, name), current_admin(request))
        except ValidationError as exc:
            view = await field_view(entity, record, name, with_choices=True)
            return _field_form(request, entity, record, view, raw, error=exc.errors.get(name, exc.detail), status=422)
        except EditConflict as exc:
            record = await records.get(entity, record_id)  # the form now carries the saved version
            view = await field_view(entity, record, name, with_choices=True)
            return _field_form(request, entity, record, view, raw, conflict=exc, status=409)
        view = await field_view(entity, record, name)
        if is_htmx(request):
            return render(request, "fragments/admin/field.html", {"f": view})
        await flash(request, f"Saved the {view.label.lower()}.")
        raise web.HTTPSeeOther(f"{view.page_url}#field-{name}")

    return handler


# ---------------------------------------------------------------- publish, itinerary, images


def _section_response(request: web.Request, entity: Entity, record: Any, fragment: str, anchor: str,
                      status: int = 200, **extra: Any) -> web.Response:  # fmt: skip
    """HTMX gets the section's fragment; a plain post a full page on error, else a redirect."""
    if is_htmx(request):
        context = _context(entity, **_sections(entity, record, **extra))
        return render(request, fragment, context, status=status)
    if status >= 400:
        raise _Rerender(status, extra)
    raise web.HTTPSeeOther(f"{_page_url(entity, record)}#{anchor}")


class _Rerender(Exception):
    def __init__(self, status: int, extra: dict) -> None:
        self.status, self.extra = status, extra


def _rerendering(entity: Entity, change):
    """Runs `change`; a failed plain form post shows the whole page with the error in place."""

    async def handler(request: web.Request) -> web.Response:
        try:
            return await change(request)
        except _Rerender as exc:
            record = await records.get(entity, request.match_info["id"])
            response = await _edit_page(request, entity, record, **exc.extra)
            response.set_status(exc.status)
            return response

    return handler


async def _publish(request: web.Request) -> web.Response:
    form = await read_form(request)
    trip = await records.set_published(record_id(request.match_info["id"], "trip"), form.get("published") == "1", current_admin(request))
    if not is_htmx(request):
        await flash(request, "Published: travellers can book it." if trip.is_published else "Unpublished: travellers no longer see it.")
    return _section_response(request, TRIPS, trip, "fragments/admin/publish.html", "publish")


async def _itinerary(request: web.Request) -> web.Response:
    form = await read_form(request)
    record = await records.get(TRIPS, request.match_info["id"])
    change, number, day = forms.itinerary_change(form)
    typed = {"day": number, "title": day.title, "details": day.details}
    try:
        record = await itinerary.change_itinerary(
            record.id, change, forms.seen(form, "itinerary"), current_admin(request), number=number, day=day
        )
    except ValidationError as exc:
        return _section_response(request, TRIPS, record, "fragments/admin/itinerary.html", "itinerary", 422, errors=exc.errors, typed=typed)
    except EditConflict as exc:
        record = await records.get(TRIPS, record.id)
        return _section_response(request, TRIPS, record, "fragments/admin/itinerary.html", "itinerary", 409, conflict=exc)
    return _section_response(request, TRIPS, record, "fragments/admin/itinerary.html", "itinerary")


def _upload(entity: Entity):
    async def change(request: web.Request) -> web.Response:
        form = await read_form(request)
        record = await records.get(entity, request.match_info["id"])
        upload, alt = form.get("image"), str(form.get("alt", ""))
        data = upload.file.read() if isinstance(upload, web.FileField) else b""
        try:
            record = await gallery.add_image(entity, record.id, data, alt, request.app[MediaKey], current_admin(request))
        except ValidationError as exc:
            return _section_response(request, entity, record, "fragments/admin/images.html", "images", 422, errors=exc.errors, alt=alt)
        return _section_response(request, entity, record, "fragments/admin/images.html", "images")

    return change


IMAGE_STEPS = {"cover": 0, "up": -1, "down": 1}


def _arrange(entity: Entity):
    async def change(request: web.Request) -> web.Response:
        form: MultiDictProxy = await read_form(request)
        image_id, op = str(form.get("image", "")), form.get("op")
        actor = current_admin(request)
        record = await records.get(entity, request.match_info["id"])
        if op == "delete":
            record = await gallery.delete_image(entity, record.id, image_id, request.app[MediaKey], actor)
        elif op in IMAGE_STEPS:
            record = await gallery.move_image(entity, record.id, image_id, IMAGE_STEPS[op], actor)
        else:
            raise ValidationError({"op": "Unknown photo action."})
        return _section_response(request, entity, record, "fragments/admin/images.html", "images")

    return change


def routes() -> list[tuple[str, str, Any, str]]:
    """(method, path, handler, name) of every catalogue admin route; the caller guards them."""
    table = [
        ("GET", "/admin/trips", trip_list, "admin_trips"),
        ("GET", "/admin/destinations", destination_list, "admin_destinations"),
        ("POST", "/admin/trips/{id:[0-9]+}/publish", _rerendering(TRIPS, _publish), "admin_trip_publish"),
        ("POST", "/admin/trips/{id:[0-9]+}/itinerary", _rerendering(TRIPS, _itinerary), "admin_trip_itinerary"),
    ]
    for entity in (TRIPS, DESTINATIONS):
        base, key = _list_url(entity), f"admin_{entity.name}"
        table += [
            ("GET", f"{base}/new", create_page(entity), f"{key}_new"),
            ("POST", f"{base}/new", create(entity), f"{key}_create"),
            ("GET", f"{base}/{{id:[0-9]+}}", edit_page(entity), f"{key}_edit"),
            ("GET", f"{base}/{{id:[0-9]+}}/fields/{{field}}", field_display(entity), f"{key}_field"),
            ("GET", f"{base}/{{id:[0-9]+}}/fields/{{field}}/edit", field_edit(entity), f"{key}_field_edit"),
            ("POST", f"{base}/{{id:[0-9]+}}/fields/{{field}}", field_save(entity), f"{key}_field_save"),
            ("POST", f"{base}/{{id:[0-9]+}}/images", _rerendering(entity, _upload(entity)), f"{key}_images"),
            ("POST", f"{base}/{{id:[0-9]+}}/images/arrange", _rerendering(entity, _arrange(entity)), f"{key}_images_arrange"),
        ]
    return table
