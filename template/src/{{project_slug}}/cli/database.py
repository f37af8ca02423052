"""The `db` commands: the database schema, migrated by Alembic."""

import argparse

from ..db.migrate import upgrade_database, write_revision
from ..settings import Settings


def add_to(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("db", help="manage the database schema")
    db_commands = parser.add_subparsers(required=True, metavar="COMMAND")
    upgrade_parser = db_commands.add_parser("upgrade", help="apply migrations (default: up to the newest)")
    upgrade_parser.add_argument("revision", nargs="?", default="heads")
    upgrade_parser.set_defaults(handler=upgrade)
    revision_parser = db_commands.add_parser("revision", help="write a new migration in db/migrations/versions")
    revision_parser.add_argument("-m", "--message", required=True, help='what it does, e.g. "add orders"')
    revision_parser.add_argument(
        "--autogenerate", action="store_true", help="from the models' difference with the database (DATABASE_URL)"
    )
    revision_parser.set_defaults(handler=revision)


def upgrade(args: argparse.Namespace, settings: Settings) -> None:
    upgrade_database(settings.database_url, args.revision)
    print(f"database upgraded to {args.revision}")


def revision(args: argparse.Namespace, settings: Settings) -> None:
    path = write_revision(settings.database_url, args.message, autogenerate=args.autogenerate)
    print(f"wrote {path}: read it before you apply it")
