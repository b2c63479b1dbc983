"""The contacts API (spec/api.md §3), on both databases."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import assert_error

SAM = {"number": "21696816277", "country_code": "TN", "firstname": "Sam"}


async def add(client: httpx.AsyncClient, auth: dict[str, str], **fields: Any) -> dict[str, Any]:
    answer = await client.post("/api/contacts/", json={**SAM, **fields}, headers=auth)
    assert answer.status_code == 201, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


async def test_create_normalises_the_number(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    contact = await add(
        client,
        auth,
        number="+216 96-816-277",
        lastname="Lopez",
        email="sam@example.com",
        tags=["vip", "tunis", "vip"],
    )
    assert contact["number"] == "21696816277"
    assert contact["country_code"] == "TN"
    assert contact["tags"] == ["tunis", "vip"]
    assert contact["email"] == "sam@example.com"
    assert set(contact) == {
        "id",
        "number",
        "country_code",
        "firstname",
        "lastname",
        "email",
        "tags",
        "created_at",
        "updated_at",
    }


async def test_the_same_number_again_is_409_with_the_existing_id(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    first = await add(client, auth)
    again = await client.post(
        "/api/contacts/", json={**SAM, "number": "+21696816277"}, headers=auth
    )
    assert assert_error(again, 409, "contact_exists")["data"] == {"id": first["id"]}


async def test_number_and_country_code_are_required(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = assert_error(
        await client.post("/api/contacts/", json={"firstname": "Jane"}, headers=auth),
        400,
        "validation_failed",
    )
    assert {e["field"] for e in body["data"]["errors"]} == {"number", "country_code"}  # type: ignore[index]
    assert "number" in str(body["message"])
    assert "country_code" in str(body["message"])


@pytest.mark.parametrize(
    ("fields", "status", "code"),
    [
        ({"number": "2169681627"}, 400, "invalid_phone_number"),
        ({"number": "21696816277", "country_code": "FR"}, 400, "invalid_phone_number"),
        ({"country_code": "XX"}, 400, "invalid_phone_number"),
        ({"email": "not-an-email"}, 400, "validation_failed"),
        ({"nickname": "Sammy"}, 400, "validation_failed"),
        ({"tags": "vip"}, 400, "validation_failed"),
        ({"firstname": "x" * 101}, 400, "validation_failed"),
    ],
)
async def test_bad_input_is_refused_with_its_code(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    fields: dict[str, Any],
    status: int,
    code: str,
) -> None:
    assert_error(
        await client.post("/api/contacts/", json={**SAM, **fields}, headers=auth), status, code
    )


async def test_unknown_field_is_named(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    body = assert_error(
        await client.post("/api/contacts/", json={**SAM, "nickname": "x"}, headers=auth),
        400,
        "validation_failed",
    )
    assert body["data"]["errors"] == [{"field": "nickname", "message": "Unknown field."}]  # type: ignore[index]


async def test_list_pages_newest_first(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    numbers = [f"2169681627{n}" for n in range(5)]
    for number in numbers:
        await add(client, auth, number=number)
    page = (await client.get("/api/contacts/?page=1&limit=2", headers=auth)).json()["data"]
    assert [c["number"] for c in page["items"]] == numbers[::-1][:2]
    assert page["pagination"] == {"page": 1, "limit": 2, "total": 5, "pages": 3}
    last = (await client.get("/api/contacts/?currentPage=3&limit=2", headers=auth)).json()
    assert [c["number"] for c in last["data"]["items"]] == [numbers[0]]
    default = (await client.get("/api/contacts/", headers=auth)).json()["data"]["pagination"]
    assert default == {"page": 1, "limit": 20, "total": 5, "pages": 1}
    for query in ("limit=101", "limit=0", "page=0", "page=x"):
        assert_error(
            await client.get(f"/api/contacts/?{query}", headers=auth), 400, "validation_failed"
        )


async def test_search_and_tag_filters(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    await add(client, auth, firstname="Samira", email="samira@shop.example", tags=["vip"])
    await add(client, auth, number="21696816278", firstname="Ali", lastname="Ben_Salah")
    await add(client, auth, number="21696816279", firstname="Lina", lastname="100% real")

    async def names(query: str) -> list[str]:
        answer = await client.get(f"/api/contacts/?{query}", headers=auth)
        return sorted(c["firstname"] for c in answer.json()["data"]["items"])

    assert await names("search=sam") == ["Samira"]
    assert await names("search=SHOP.EXAMPLE") == ["Samira"]
    assert await names("search=816278") == ["Ali"]
    assert await names("search=Ben_") == ["Ali"]
    assert await names("search=m_r") == []  # _ is a literal, not a wildcard ("mir")
    assert await names("search=100%25") == ["Lina"]
    assert await names("search=%25") == ["Lina"]  # % is a literal too
    assert await names("tag=vip") == ["Samira"]
    assert await names("tag=none") == []


async def test_get_update_delete(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    contact = await add(client, auth, tags=["a"])
    path = f"/api/contacts/{contact['id']}/"
    assert (await client.get(path, headers=auth)).json()["data"] == contact
    updated = await client.put(path, json={"lastname": "Lopez", "tags": ["b", "c"]}, headers=auth)
    assert updated.status_code == 200
    data = updated.json()["data"]
    assert (data["firstname"], data["lastname"], data["tags"]) == ("Sam", "Lopez", ["b", "c"])
    moved = await client.put(path, json={"number": "+21696816278"}, headers=auth)
    assert moved.json()["data"]["number"] == "21696816278"
    assert_error(
        await client.put(path, json={"number": "123"}, headers=auth), 400, "invalid_phone_number"
    )
    assert_error(
        await client.put(path, json={"shoe_size": 42}, headers=auth), 400, "validation_failed"
    )
    deleted = await client.delete(path, headers=auth)
    assert deleted.json()["data"] == {"id": contact["id"]}
    assert_error(await client.get(path, headers=auth), 404, "contact_not_found")
    assert_error(await client.delete(path, headers=auth), 404, "contact_not_found")


async def test_changing_to_a_number_in_use_is_409(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    first = await add(client, auth)
    second = await add(client, auth, number="21696816278")
    clash = await client.put(
        f"/api/contacts/{second['id']}/", json={"number": "21696816277"}, headers=auth
    )
    assert assert_error(clash, 409, "contact_exists")["data"] == {"id": first["id"]}


async def test_another_users_contact_is_404_and_unchanged(
    client: httpx.AsyncClient, auth: dict[str, str], bob_auth: dict[str, str]
) -> None:
    contact = await add(client, auth)
    path = f"/api/contacts/{contact['id']}/"
    assert_error(await client.get(path, headers=bob_auth), 404, "contact_not_found")
    assert_error(
        await client.put(path, json={"firstname": "Eve"}, headers=bob_auth),
        404,
        "contact_not_found",
    )
    assert_error(await client.delete(path, headers=bob_auth), 404, "contact_not_found")
    assert (await client.get(path, headers=auth)).json()["data"] == contact
    bob_list = (await client.get("/api/contacts/", headers=bob_auth)).json()["data"]
    assert bob_list["items"] == []
    # The number is free in bob's own book.
    assert (await client.post("/api/contacts/", json=SAM, headers=bob_auth)).status_code == 201


@pytest.mark.parametrize("contact_id", ["abc", "0", "99999999999999999999", "-1"])
async def test_odd_ids_are_clear_errors_not_500s(
    client: httpx.AsyncClient, auth: dict[str, str], contact_id: str
) -> None:
    answer = await client.get(f"/api/contacts/{contact_id}/", headers=auth)
    assert answer.status_code == 400
    assert answer.json()["code"] == "validation_failed"
    assert answer.json()["data"]["errors"][0]["field"] == "contact_id"


async def test_deleting_a_contact_keeps_its_messages(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # The message history side is covered in tests/message; here: delete works with none.
    contact = await add(client, auth)
    assert (await client.delete(f"/api/contacts/{contact['id']}/", headers=auth)).status_code == 200
