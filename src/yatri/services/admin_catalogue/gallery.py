"""The photos of a trip or destination: upload, reorder, pick the cover, delete.

The first image is the cover. The audit keeps image ids, not URLs. A stored photo is
deleted only when no trip or destination shows it any more, after the commit.
"""

from __future__ import annotations

from collections.abc import Callable

from tortoise.models import Model

from yatri.errors import NotFound, ValidationError
from yatri.models import Destination, Trip, User
from yatri.parsing import FieldError
from yatri.services import audit
from yatri.services.admin_catalogue.forms import Entity, text
from yatri.services.admin_catalogue.records import get, locked_record, save
from yatri.services.media import MediaStore


async def _image_in_use(image_id: str) -> bool:
    for model in (Trip, Destination):
        for images in await model.all().values_list("images", flat=True):
            if any(image.get("id") == image_id for image in images or []):
                return True
    return False


async def _change_images(entity: Entity, record_id: int, change: Callable[[list[dict]], list[dict]],
                         actor: User, action: str) -> list[dict]:  # fmt: skip
    """Apply `change` to the image list; returns the images it dropped."""
    async with locked_record(entity, record_id) as record:
        before = list(record.images)
        after = change([dict(i) for i in before])
        if after != before:
            await save(entity, record, {"images": after}, actor)
            ids = lambda images: [i["id"] for i in images]  # noqa: E731
            await audit.record(entity.name, record.id, action, actor=actor, data={"before": {"images": ids(before)}, "after": {"images": ids(after)}})
    kept = {i["id"] for i in after}
    return [i for i in before if i["id"] not in kept]


def _position(images: list[dict], image_id: str) -> int:
    for n, image in enumerate(images):
        if image["id"] == image_id:
            return n
    raise NotFound("That image is not in the gallery any more.")


async def add_image(entity: Entity, record_id: int, data: bytes, alt: str, store: MediaStore, actor: User) -> Model:
    await get(entity, record_id)  # a missing record is reported before anything is uploaded
    try:
        alt = text("Description", 200, required=False)(alt)
    except FieldError as exc:
        raise ValidationError({"alt": str(exc)}) from None
    image = await store.store(data, alt=alt)

    def append(images: list[dict]) -> list[dict]:
        if any(i["id"] == image["id"] for i in images):
            raise ValidationError({"image": "This photo is already in the gallery."})
        return [*images, image]

    try:
        await _change_images(entity, record_id, append, actor, "image_add")
    except Exception:
        if not await _image_in_use(image["id"]):
            await store.delete(image)
        raise
    return await get(entity, record_id)


async def move_image(entity: Entity, record_id: int, image_id: str, step: int, actor: User) -> Model:
    """Move an image one place earlier (step -1) or later (+1); `step` 0 makes it the cover."""

    def move(images: list[dict]) -> list[dict]:
        i = _position(images, image_id)
        image = images.pop(i)
        images.insert(0 if step == 0 else max(0, min(len(images), i + step)), image)
        return images

    await _change_images(entity, record_id, move, actor, "image_cover" if step == 0 else "image_move")
    return await get(entity, record_id)


async def delete_image(entity: Entity, record_id: int, image_id: str, store: MediaStore, actor: User) -> Model:
    def drop(images: list[dict]) -> list[dict]:
        i = _position(images, image_id)
        return images[:i] + images[i + 1 :]

    dropped = await _change_images(entity, record_id, drop, actor, "image_delete")
    for image in dropped:  # after the commit; the same photo may also be on another page
        if not await _image_in_use(image["id"]):
            await store.delete(image)
    return await get(entity, record_id)
