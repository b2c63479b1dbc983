"""Every API method, declared once for both clients.

Each method is an ``Operation`` wrapping a call builder from ``_routes_*``. Each client class
gets a real method per operation when it is defined (``Operations.__init_subclass__``): a plain
function on ``HeraldClient``, a coroutine function on ``AsyncHeraldClient``, each with the
builder's parameters and docstring and the result type, so ``help()`` and
``inspect.signature()`` show what is called. Type checkers read the ``Operation`` descriptor
instead, which gives them the same signature, so the two clients share one list of signatures
instead of two copies.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Generic, ParamSpec, TypeVar, cast, get_args, overload

from herald_client import _export as export
from herald_client import _routes_account as account
from herald_client import _routes_analytics as analytics
from herald_client import _routes_channels as channels
from herald_client import _routes_conversations as conversations
from herald_client import _routes_messaging as messaging
from herald_client._call import Call

P = ParamSpec("P")
T = TypeVar("T")


class SyncRunner:
    """Runs a call to completion and returns its result (the sync client)."""

    def _run(self, call: Call[T]) -> T:
        raise NotImplementedError


class AsyncRunner:
    """Runs a call and returns a coroutine of its result (the async client)."""

    async def _run(self, call: Call[T]) -> T:
        raise NotImplementedError


class Operation(Generic[P, T]):
    """One API method. With ``replaced_by``, an old name kept for compatibility: it does the
    same and warns (``DeprecationWarning``) that the named method replaces it."""

    def __init__(self, build: Callable[P, Call[T]], *, replaced_by: str | None = None) -> None:
        self._build = build
        self._name = build.__name__
        self._replaced_by = replaced_by
        self.__doc__ = build.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Operation[P, T]: ...

    @overload
    def __get__(self, client: SyncRunner, owner: type[Any]) -> Callable[P, T]: ...

    @overload
    def __get__(self, client: AsyncRunner, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(self, client: SyncRunner | AsyncRunner | None, owner: type[Any]) -> Any:
        # Only reached on ``Operations`` itself: its subclasses hold real methods instead.
        return self if client is None else self.method_for(owner).__get__(client, owner)

    def method_for(self, owner: type[Any]) -> Callable[..., Any]:
        """The method of ``owner`` (a sync or async client class) that runs this operation.

        Building the call happens in it, once per method call: values chosen while building
        (the generated Idempotency-Key) therefore stay the same across the call's retries.
        """
        build = self._deprecated_build(self._replaced_by) if self._replaced_by else self._build
        method: Callable[..., Any]
        if issubclass(owner, AsyncRunner):

            async def method(client: AsyncRunner, /, *args: Any, **kwargs: Any) -> Any:
                return await client._run(build(*args, **kwargs))

        else:

            def method(client: SyncRunner, /, *args: Any, **kwargs: Any) -> Any:
                return client._run(build(*args, **kwargs))

        signature = inspect.signature(self._build, eval_str=True)
        (result,) = get_args(signature.return_annotation)  # Call[Profile] -> Profile
        client = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        method.__signature__ = signature.replace(  # type: ignore[union-attr]
            parameters=[client, *signature.parameters.values()], return_annotation=result
        )
        method.__annotations__ = {
            **{p.name: p.annotation for p in signature.parameters.values()},
            "return": result,
        }
        method.__name__ = self._name
        method.__qualname__ = f"{owner.__qualname__}.{self._name}"
        method.__module__ = owner.__module__
        method.__doc__ = self.__doc__
        if self._replaced_by:
            method.__doc__ = f"Deprecated: use ``{self._replaced_by}``, which does the same."
        return method

    def _deprecated_build(self, replacement: str) -> Callable[..., Call[T]]:
        build, name = self._build, self._name

        def warned(*args: Any, **kwargs: Any) -> Call[T]:
            # stacklevel 3: past this builder and the client's method, at the caller's line.
            warnings.warn(
                f"{name} is deprecated: use {replacement}, which does the same",
                DeprecationWarning,
                stacklevel=3,
            )
            return build(*args, **kwargs)

        return warned


def _define_methods(cls: type[Any], declared: type[Any]) -> None:
    """Give ``cls`` (a client class, or a group of one) a real method per operation that
    ``declared`` lists."""
    for name, value in vars(declared).items():
        if isinstance(value, Operation):
            setattr(cls, name, value.method_for(cls))


class _Bound:
    """A group's methods run by the client that reached them (its login, retries, transport)."""

    def __init__(self, client: Any) -> None:
        self._client = client


class ConversationOperations:
    """``client.conversations``: what customers wrote and your answers, as conversations."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _define_methods(cls, ConversationOperations)

    list = Operation(conversations.list_conversations)
    messages = Operation(conversations.conversation_messages)
    read = Operation(conversations.read_conversation)


class AnalyticsOperations:
    """``client.analytics``: messages, delivery and estimated cost over a period."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _define_methods(cls, AnalyticsOperations)

    messages = Operation(analytics.message_analytics)


class MessageOperations:
    """``client.messages``: free-form messages inside a customer's 24-hour window."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _define_methods(cls, MessageOperations)

    send_text = Operation(messaging.send_text)
    send_free_form = Operation(messaging.send_free_form)


class ChannelOperations:
    """``client.channels``: your WhatsApp senders, and which one is the default."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _define_methods(cls, ChannelOperations)

    list = Operation(channels.list_channels)
    get = Operation(channels.get_channel)
    set_default = Operation(channels.set_default_channel)


class SyncChannels(ChannelOperations, _Bound, SyncRunner):
    def _run(self, call: Call[T]) -> T:
        return cast(SyncRunner, self._client)._run(call)


class AsyncChannels(ChannelOperations, _Bound, AsyncRunner):
    async def _run(self, call: Call[T]) -> T:
        return await cast(AsyncRunner, self._client)._run(call)


class SyncConversations(ConversationOperations, _Bound, SyncRunner):
    def _run(self, call: Call[T]) -> T:
        return cast(SyncRunner, self._client)._run(call)


class AsyncConversations(ConversationOperations, _Bound, AsyncRunner):
    async def _run(self, call: Call[T]) -> T:
        return await cast(AsyncRunner, self._client)._run(call)


class SyncAnalytics(AnalyticsOperations, _Bound, SyncRunner):
    def _run(self, call: Call[T]) -> T:
        return cast(SyncRunner, self._client)._run(call)


class AsyncAnalytics(AnalyticsOperations, _Bound, AsyncRunner):
    async def _run(self, call: Call[T]) -> T:
        return await cast(AsyncRunner, self._client)._run(call)


class SyncMessages(MessageOperations, _Bound, SyncRunner):
    def _run(self, call: Call[T]) -> T:
        return cast(SyncRunner, self._client)._run(call)

    def export_csv(self, target: export.Target, **filters: Any) -> int:
        """Every message the history's filters match (``state``, ``template_id``,
        ``created_from`` ...) as a CSV file written to ``target`` (a path or a binary file),
        streamed; returns the bytes written."""
        client = self._client
        headers = client._drive(client._engine._auth_headers())
        params = export.export_params(filters)
        written = 0
        with client._http.stream("GET", export.HISTORY, params=params, headers=headers) as answer:
            if answer.status_code != 200:
                answer.read()
                export.refused(answer)
            with export.opened(target) as out:
                for chunk in answer.iter_bytes():
                    written += out.write(chunk)
        return written


class AsyncMessages(MessageOperations, _Bound, AsyncRunner):
    async def _run(self, call: Call[T]) -> T:
        return await cast(AsyncRunner, self._client)._run(call)

    async def export_csv(self, target: export.Target, **filters: Any) -> int:
        """Every message the history's filters match (``state``, ``template_id``,
        ``created_from`` ...) as a CSV file written to ``target`` (a path or a binary file),
        streamed; returns the bytes written."""
        client = self._client
        headers = await client._drive(client._engine._auth_headers())
        params = export.export_params(filters)
        written = 0
        async with client._http.stream(
            "GET", export.HISTORY, params=params, headers=headers
        ) as answer:
            if answer.status_code != 200:
                await answer.aread()
                export.refused(answer)
            with export.opened(target) as out:
                async for chunk in answer.aiter_bytes():
                    written += out.write(chunk)
        return written


S = TypeVar("S")
A = TypeVar("A")


class Group(Generic[S, A]):
    """A group of methods reached through the client (``client.conversations.list()``), run
    by that client: ``sync`` wraps the sync client, ``async_`` the async one."""

    def __init__(self, sync: Callable[[SyncRunner], S], async_: Callable[[AsyncRunner], A]):
        self._sync, self._async = sync, async_

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Group[S, A]: ...

    @overload
    def __get__(self, client: SyncRunner, owner: type[Any]) -> S: ...

    @overload
    def __get__(self, client: AsyncRunner, owner: type[Any]) -> A: ...

    def __get__(
        self, client: SyncRunner | AsyncRunner | None, owner: type[Any]
    ) -> Group[S, A] | S | A:
        if client is None:
            return self
        if isinstance(client, AsyncRunner):
            return self._async(client)
        return self._sync(client)


class Operations:
    """The methods of both clients, grouped as in Herald's API reference."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _define_methods(cls, Operations)

    # conversations: client.conversations.list(), .messages(number), .read(number)
    conversations = Group(SyncConversations, AsyncConversations)
    # free-form messages: client.messages.send_text(...), .send_free_form(...)
    messages = Group(SyncMessages, AsyncMessages)
    # analytics: client.analytics.messages(from_=..., to=..., group_by=...)
    analytics = Group(SyncAnalytics, AsyncAnalytics)
    # channels: client.channels.list(), .get(id), .set_default(id)
    channels = Group(SyncChannels, AsyncChannels)

    # profile
    get_profile = Operation(account.get_profile)
    update_profile = Operation(account.update_profile)

    # contacts (v1)
    create_contact = Operation(account.create_contact)
    list_contacts = Operation(account.list_contacts)
    get_contact = Operation(account.get_contact)
    update_contact = Operation(account.update_contact)
    delete_contact = Operation(account.delete_contact)

    # templates (v2)
    create_template = Operation(messaging.create_template)
    list_templates = Operation(messaging.list_templates)
    get_template = Operation(messaging.get_template)
    submit_template = Operation(messaging.submit_template)
    delete_template = Operation(messaging.delete_template)

    # sending
    send_template = Operation(messaging.send_template)
    send_v1 = Operation(messaging.send_v1)
    send_to_contact = Operation(messaging.send_to_contact)
    send_bulk = Operation(messaging.send_bulk)

    # history
    list_messages = Operation(messaging.list_messages)
    get_message = Operation(messaging.get_message)
    cancel_message = Operation(messaging.cancel_message)
    get_bulk_group = Operation(messaging.get_bulk_group)

    # opt-outs
    list_opt_outs = Operation(account.list_opt_outs)
    add_opt_out = Operation(account.add_opt_out)
    remove_opt_out = Operation(account.remove_opt_out)

    # media
    upload_media = Operation(messaging.upload_media)
    list_media = Operation(messaging.list_media)
    get_media = Operation(messaging.get_media)
    delete_media = Operation(messaging.delete_media)

    # plugin secret keys (JWT mode only)
    create_secret_key = Operation(account.create_secret_key)
    list_secret_keys = Operation(account.list_secret_keys)
    revoke_secret_key = Operation(account.revoke_secret_key)

    # delivery-status callbacks (the routes' path says webhooks; the object is a callback)
    create_callback = Operation(account.create_callback)
    list_callbacks = Operation(account.list_callbacks)
    get_callback = Operation(account.get_callback)
    rotate_callback_secret = Operation(account.rotate_callback_secret)
    list_callback_deliveries = Operation(account.list_callback_deliveries)
    delete_callback = Operation(account.delete_callback)

    # the 0.2 names of the callback methods, deprecated
    create_webhook = Operation(account.create_callback, replaced_by="create_callback")
    list_webhooks = Operation(account.list_callbacks, replaced_by="list_callbacks")
    get_webhook = Operation(account.get_callback, replaced_by="get_callback")
    rotate_webhook_secret = Operation(
        account.rotate_callback_secret, replaced_by="rotate_callback_secret"
    )
    delete_webhook = Operation(account.delete_callback, replaced_by="delete_callback")
