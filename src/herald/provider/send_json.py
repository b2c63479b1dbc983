"""Meta's JSON for a send: a template with its parameters, or a free-form message
(``free_form.py``); cloud_api.py makes the request."""

from __future__ import annotations

from herald.provider import free_form
from herald.provider.base import ButtonValue, JsonObject, OutboundMessage


def send_payload(message: OutboundMessage) -> JsonObject:
    """Meta's send body for one message: a template's, or a free-form one's."""
    if message.free_form is not None:
        return free_form.payload(message.to, message.callback_data, message.free_form)
    components: list[JsonObject] = []
    if message.header is not None:
        media: JsonObject = (
            {"link": message.header.link}
            if message.header.link is not None
            else {"id": message.header.provider_media_id}
        )
        if message.header.kind == "document" and message.header.filename:
            media["filename"] = message.header.filename
        components.append(
            {
                "type": "header",
                "parameters": [{"type": message.header.kind, message.header.kind: media}],
            }
        )
    elif message.header_params:
        components.append(
            {
                "type": "header",
                "parameters": _text_parameters(message.header_params, message.header_param_names),
            }
        )
    if message.otp_code is not None:
        # Authentication templates carry the code twice: in the body and in the OTP button.
        components.append(
            {"type": "body", "parameters": [{"type": "text", "text": message.otp_code}]}
        )
        components.append(
            {
                "type": "button",
                "sub_type": "url",
                "index": "0",
                "parameters": [{"type": "text", "text": message.otp_code}],
            }
        )
    elif message.body_params:
        components.append(
            {
                "type": "body",
                "parameters": _text_parameters(message.body_params, message.body_param_names),
            }
        )
    for button in message.buttons:
        components.append(_button_component(button))
    # LanguageObject requires the policy; "deterministic" is the only one Meta has.
    language = {"policy": "deterministic", "code": message.language}
    template: JsonObject = {"name": message.template_name, "language": language}
    if components:
        template["components"] = components
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": message.to,
        "type": "template",
        "biz_opaque_callback_data": message.callback_data,
        "template": template,
    }


def _text_parameters(values: tuple[str, ...], names: tuple[str, ...]) -> list[JsonObject]:
    """Text parameters in order, each with its ``parameter_name`` for a NAMED template."""
    if names:
        return [
            {"type": "text", "parameter_name": name, "text": value}
            for name, value in zip(names, values, strict=True)
        ]
    return [{"type": "text", "text": value} for value in values]


def _button_component(button: ButtonValue) -> JsonObject:
    if button.sub_type == "quick_reply":
        parameter: JsonObject = {"type": "payload", "payload": button.value}
        sub_type = "quick_reply"
    elif button.sub_type == "copy_code":
        parameter = {"type": "coupon_code", "coupon_code": button.value}
        sub_type = "COPY_CODE"
    else:
        parameter = {"type": "text", "text": button.value}
        sub_type = "url"
    return {
        "type": "button",
        "sub_type": sub_type,
        "index": str(button.index),
        "parameters": [parameter],
    }
