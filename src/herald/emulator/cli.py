"""``herald emulator``: the Cloud API emulator on its own port."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run_emulator(
    app_secret: Annotated[
        str, typer.Option(envvar="HERALD_EMULATOR_APP_SECRET", help="Signs the webhooks it sends.")
    ],
    access_token: Annotated[
        str,
        typer.Option(envvar="HERALD_EMULATOR_ACCESS_TOKEN", help="The Bearer token it accepts."),
    ],
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8081,
    webhook_url: Annotated[str | None, typer.Option(help="Where status webhooks go.")] = None,
    approve_after: Annotated[
        float, typer.Option(help="Seconds until templates are approved.")
    ] = 2.0,
    throughput: Annotated[
        float | None, typer.Option(help="Sends/s per number (130429 above).")
    ] = None,
    pair_rate: Annotated[
        float | None, typer.Option(help="Seconds between sends to one user.")
    ] = None,
    state: Annotated[
        Path | None,
        typer.Option(
            "--state",
            envvar="HERALD_EMULATOR_STATE",
            help="A file where it keeps templates, media, uploads, knobs and undelivered "
            "webhooks across restarts (created if missing). Without it, it forgets everything "
            "when it stops.",
        ),
    ] = None,
    seed: Annotated[
        Path | None,
        typer.Option(
            "--seed",
            help="A JSON file of templates the accounts already hold, in Meta's listing shape: "
            '{"waba_id": "...", "templates": [...]} or a list of those (docs/emulator.md). '
            "Put in place at each start, replacing templates of the same name and language.",
        ),
    ] = None,
) -> None:
    """Run the Cloud API emulator."""
    import uvicorn

    from herald.emulator.app import create_emulator_app
    from herald.emulator.config import EmulatorConfig
    from herald.emulator.seeding import SeedError, read_seed_file
    from herald.kit.heap import freeze_heap

    try:
        seeded = read_seed_file(seed) if seed is not None else []
    except SeedError as exc:
        typer.echo(f"error: --seed: {exc}", err=True)
        raise typer.Exit(6) from None

    config = EmulatorConfig(
        access_token=access_token,
        app_secret=app_secret,
        webhook_url=webhook_url,
        approve_after_seconds=approve_after,
        throughput_per_second=throughput,
        pair_rate_seconds=pair_rate,
        state_path=str(state) if state is not None else None,
        seed=list(seeded),
    )
    application = create_emulator_app(config)
    freeze_heap()
    uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)
