"""Templates, v2 (no trailing slash) and v1 (trailing slash): one store, same objects."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from starlette.convertors import register_url_convertor

from herald.channel.defaults import emulator
from herald.deps import CurrentUser, RuntimeDep, SessionDep
from herald.kit.jsend import Success
from herald.kit.pagination import MAX_ID, Page, PageParamsDep, make_page
from herald.kit.routes import segment_except
from herald.media.state import media_store
from herald.runtime import Runtime
from herald.template import service, sync
from herald.template.schemas import (
    Category,
    State,
    TemplateCreate,
    TemplateOut,
    TemplateSyncOut,
)

router = APIRouter(tags=["templates"])

# `/api/v2/whatsapp/templates/sync` is the sync (POST only): GET and DELETE there are 405, not a
# template id.
register_url_convertor("template_id", segment_except("sync"))

TemplateId = Annotated[int, Path(ge=1, le=MAX_ID)]


async def provider_context(runtime: RuntimeDep) -> service.ProviderContext:
    return service.ProviderContext(runtime.provider, runtime.cipher, emulator(runtime))


ProviderDep = Annotated[service.ProviderContext, Depends(provider_context)]


async def _create(
    body: TemplateCreate, user: CurrentUser, session: SessionDep, runtime: Runtime
) -> Success[TemplateOut]:
    template = await service.create(session, user.id, body, runtime.clock.now())
    await session.commit()
    return Success(message="Template created", data=TemplateOut.of(template))


@router.post("/api/v2/whatsapp/templates", status_code=status.HTTP_201_CREATED)
async def create_template(
    body: TemplateCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[TemplateOut]:
    return await _create(body, user, session, runtime)


@router.post("/api/whatsapp/templates/", status_code=status.HTTP_201_CREATED)
async def create_template_v1(
    body: TemplateCreate, user: CurrentUser, session: SessionDep, runtime: RuntimeDep
) -> Success[TemplateOut]:
    return await _create(body, user, session, runtime)


@router.get("/api/v2/whatsapp/templates")
@router.get("/api/whatsapp/templates/")
async def list_templates(
    user: CurrentUser,
    session: SessionDep,
    params: PageParamsDep,
    state: State | None = None,
    category: Category | None = None,
    name: Annotated[str | None, Query(max_length=512)] = None,
) -> Success[Page[TemplateOut]]:
    templates, total = await service.list_page(session, user.id, params, state, category, name)
    items = [TemplateOut.of(t) for t in templates]
    return Success(message="Templates", data=make_page(items, total, params))


@router.post("/api/v2/whatsapp/templates/sync")
async def sync_templates(
    user: CurrentUser, session: SessionDep, runtime: RuntimeDep, ctx: ProviderDep
) -> Success[TemplateSyncOut]:
    """Import every template of the caller's WhatsApp Business Account and bring Herald's
    copies in step (created, updated, unchanged, removed)."""
    counts = await sync.sync_user(session, user.id, ctx, runtime.clock.now())
    await session.commit()
    return Success(
        message="Templates synced with the provider",
        data=TemplateSyncOut(
            created=counts.created,
            updated=counts.updated,
            unchanged=counts.unchanged,
            removed=counts.removed,
        ),
    )


@router.get("/api/v2/whatsapp/templates/{template_id:template_id}")
@router.get("/api/whatsapp/templates/{template_id}/")
async def get_template(
    template_id: TemplateId, user: CurrentUser, session: SessionDep
) -> Success[TemplateOut]:
    template = await service.get(session, user.id, template_id)
    return Success(message="Template", data=TemplateOut.of(template))


@router.post("/api/v2/whatsapp/templates/{template_id}/submit")
@router.post("/api/whatsapp/templates/{template_id}/submit/")
async def submit_template(
    template_id: TemplateId,
    user: CurrentUser,
    session: SessionDep,
    runtime: RuntimeDep,
    ctx: ProviderDep,
) -> Success[TemplateOut]:
    template = await service.submit(
        session, user.id, template_id, ctx, media_store(runtime), runtime.clock.now()
    )
    await session.commit()
    return Success(message="Template submitted for review", data=TemplateOut.of(template))


@router.delete("/api/v2/whatsapp/templates/{template_id:template_id}")
async def delete_template(
    template_id: TemplateId, user: CurrentUser, session: SessionDep, ctx: ProviderDep
) -> Success[dict[str, int]]:
    await service.delete(session, user.id, template_id, ctx)
    await session.commit()
    return Success(message="Template deleted", data={"id": template_id})
