"""Calls for the caller's account: profile, contacts (v1), opt-outs, secret keys and status
callbacks. Each function builds a ``Call``; the clients expose them as methods."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from herald_client._call import Call, paging, without_none
from herald_client._envelope import parse_object, parse_page
from herald_client.models import (
    Callback,
    CallbackCreated,
    CallbackDelivery,
    Contact,
    DeletedId,
    DeliveryOutcome,
    OptOut,
    OptOutRemoved,
    Page,
    PlatformType,
    Profile,
    SecretKey,
    SecretKeyCreated,
)

DEFAULT_LIMIT = 20

# --- profile: /api/user/ ------------------------------------------------------------------------


def get_profile() -> Call[Profile]:
    """The caller's profile."""
    return Call("GET", "/api/user/", parse_object)


def update_profile(
    *,
    firstname: str | None = None,
    lastname: str | None = None,
    password: str | None = None,
    current_password: str | None = None,
) -> Call[Profile]:
    """Change the given fields. A new ``password`` needs ``current_password``; Herald then
    revokes every earlier token and the client logs in again with the new password."""
    body = without_none(
        firstname=firstname,
        lastname=lastname,
        password=password,
        current_password=current_password,
    )
    return Call("PUT", "/api/user/", parse_object, json=body, new_password=password)


# --- contacts: /api/contacts/ (v1, trailing slashes) --------------------------------------------


def create_contact(
    number: str,
    country_code: str,
    *,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
    tags: Sequence[str] | None = None,
) -> Call[Contact]:
    """A new contact; a number the user already has is ``Conflict`` ``contact_exists`` with
    ``data["id"]``."""
    body = without_none(
        number=number,
        country_code=country_code,
        firstname=firstname,
        lastname=lastname,
        email=email,
        tags=list(tags) if tags is not None else None,
    )
    return Call("POST", "/api/contacts/", parse_object, json=body)


def list_contacts(
    *,
    search: str | None = None,
    tag: str | None = None,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
) -> Call[Page[Contact]]:
    """One page of contacts; ``search`` matches a fragment of name, email or number."""
    params = paging(page, limit, search=search, tag=tag)
    return Call("GET", "/api/contacts/", parse_page, params=params)


def get_contact(contact_id: int) -> Call[Contact]:
    return Call("GET", f"/api/contacts/{int(contact_id)}/", parse_object)


def update_contact(
    contact_id: int,
    *,
    number: str | None = None,
    country_code: str | None = None,
    firstname: str | None = None,
    lastname: str | None = None,
    email: str | None = None,
    tags: Sequence[str] | None = None,
) -> Call[Contact]:
    """Change only the given fields (``tags`` replaces the whole list)."""
    body = without_none(
        number=number,
        country_code=country_code,
        firstname=firstname,
        lastname=lastname,
        email=email,
        tags=list(tags) if tags is not None else None,
    )
    return Call("PUT", f"/api/contacts/{int(contact_id)}/", parse_object, json=body)


def delete_contact(contact_id: int) -> Call[DeletedId]:
    """Delete a contact; its messages stay (their ``contact_id`` becomes None)."""
    return Call("DELETE", f"/api/contacts/{int(contact_id)}/", parse_object)


# --- opt-outs: /api/v2/opt-outs -----------------------------------------------------------------


def list_opt_outs(*, page: int = 1, limit: int = DEFAULT_LIMIT) -> Call[Page[OptOut]]:
    return Call("GET", "/api/v2/opt-outs", parse_page, params={"page": page, "limit": limit})


def add_opt_out(number: str, country_code: str) -> Call[OptOut]:
    """Never send to this number again (``Conflict`` ``opt_out_exists`` if already listed)."""
    body = {"number": number, "country_code": country_code}
    return Call("POST", "/api/v2/opt-outs", parse_object, json=body)


def remove_opt_out(number: str) -> Call[OptOutRemoved]:
    """Take a number (E.164 digits, as listed) off the opt-out list."""
    return Call("DELETE", f"/api/v2/opt-outs/{quote(number, safe='')}", parse_object)


# --- plugin secret keys: /api/v2/secret-keys (JWT mode only) ------------------------------------


def create_secret_key(
    platform_type: PlatformType, base_uri: str, name: str
) -> Call[SecretKeyCreated]:
    """A key for a shop plugin. ``secret_key`` is in this answer only: store it now."""
    body = {"platform_type": platform_type, "base_uri": base_uri, "name": name}
    return Call("POST", "/api/v2/secret-keys", parse_object, json=body)


def list_secret_keys(*, page: int = 1, limit: int = DEFAULT_LIMIT) -> Call[Page[SecretKey]]:
    """The caller's keys, revoked ones included; never the secrets."""
    return Call("GET", "/api/v2/secret-keys", parse_page, params={"page": page, "limit": limit})


def revoke_secret_key(key_id: int) -> Call[SecretKey]:
    """Revoke a key at once; answers the key with ``revoked_at`` set."""
    return Call("DELETE", f"/api/v2/secret-keys/{int(key_id)}", parse_object)


# --- delivery-status callbacks: /api/v2/webhooks ------------------------------------------------


def create_callback(
    url: str,
    events: Sequence[str] = ("message.status", "template.updated", "message.received"),
    secret: str | None = None,
) -> Call[CallbackCreated]:
    """Register a URL that receives each status change (``message.status``), each change
    of a template (``template.updated``) and each customer's message (``message.received``),
    unless ``events`` says fewer, signed the Standard
    Webhooks way (check it with ``herald_client.construct_event``). Without ``secret`` (16+
    characters) Herald generates one; either way it is in this answer only. One per URL
    (``Conflict`` ``callback_exists`` with the existing one's ``id``; rotate its secret
    instead)."""
    body = without_none(url=url, events=list(events), secret=secret)
    return Call("POST", "/api/v2/webhooks", parse_object, json=body)


def list_callbacks(*, page: int = 1, limit: int = DEFAULT_LIMIT) -> Call[Page[Callback]]:
    """The caller's callbacks (never their secrets)."""
    return Call("GET", "/api/v2/webhooks", parse_page, params={"page": page, "limit": limit})


def get_callback(callback_id: int) -> Call[Callback]:
    return Call("GET", f"/api/v2/webhooks/{int(callback_id)}", parse_object)


def rotate_callback_secret(
    callback_id: int,
    *,
    secret: str | None = None,
    previous_secret_valid_for_seconds: int | None = None,
) -> Call[CallbackCreated]:
    """A new signing secret (given, or generated: in this answer only). The replaced one keeps
    signing too, as a second signature, for ``previous_secret_valid_for_seconds`` (Herald's
    default a day, 0 to stop at once): switch your receiver to the new secret in that time."""
    body = without_none(
        secret=secret, previous_secret_valid_for_seconds=previous_secret_valid_for_seconds
    )
    path = f"/api/v2/webhooks/{int(callback_id)}/rotate-secret"
    return Call("POST", path, parse_object, json=body)


def list_callback_deliveries(
    callback_id: int,
    *,
    outcome: DeliveryOutcome | None = None,
    page: int = 1,
    limit: int = DEFAULT_LIMIT,
) -> Call[Page[CallbackDelivery]]:
    """The events queued for this callback, newest first, with their attempts and last answer;
    ``outcome="dead"`` lists those Herald gave up on, ``"pending"`` those still to be tried."""
    path = f"/api/v2/webhooks/{int(callback_id)}/deliveries"
    return Call("GET", path, parse_page, params=paging(page, limit, outcome=outcome))


def delete_callback(callback_id: int) -> Call[DeletedId]:
    """Unregister a URL; deliveries still waiting for it are dropped."""
    return Call("DELETE", f"/api/v2/webhooks/{int(callback_id)}", parse_object)
