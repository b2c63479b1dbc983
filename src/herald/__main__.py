from herald.cli.main import app

app(prog_name="herald")
