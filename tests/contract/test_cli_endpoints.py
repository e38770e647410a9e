"""``openissuing endpoints list|delete`` against the running server, platform and accounts."""

from __future__ import annotations

from openissuing import cli
from tests.flows import activated_account


def endpoints_cli(server, capsys, *args: str) -> tuple[int, list[str]]:
    code = cli.main(["endpoints", *args, "--api-base", server.url, "--api-key", server.api_key])
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def test_list_shows_platform_and_account_endpoints_and_delete_finds_them(client, server, capsys):
    account = activated_account(client)
    mine = client.v1.webhook_endpoints.create(
        params={"url": "http://127.0.0.1:9/platform", "enabled_events": ["*"]}
    )
    leftover = client.v1.webhook_endpoints.create(
        params={
            "url": "http://127.0.0.1:9/leftover",
            "enabled_events": ["issuing_authorization.request"],
        },
        options={"stripe_account": account},
    )
    try:
        code, lines = endpoints_cli(server, capsys, "list")
        assert code == 0
        assert f"{mine.id}  platform  enabled  http://127.0.0.1:9/platform  *" in lines
        assert (
            f"{leftover.id}  {account}  enabled  http://127.0.0.1:9/leftover  "
            "issuing_authorization.request"
        ) in lines
        code, lines = endpoints_cli(server, capsys, "list", "--account", account)
        assert code == 0 and [line.split("  ")[0] for line in lines] == [leftover.id]

        # Deleted without saying where it lives: the command finds its account.
        code, lines = endpoints_cli(server, capsys, "delete", leftover.id)
        assert (code, lines) == (0, [f"openissuing: deleted {leftover.id} (account {account})"])
        code, lines = endpoints_cli(server, capsys, "delete", leftover.id)
        assert code == 1
        assert lines == [
            f"openissuing: no webhook endpoint {leftover.id} on the platform or any connected "
            "account"
        ]
        assert client.v1.webhook_endpoints.list(options={"stripe_account": account}).data == []
    finally:
        client.v1.webhook_endpoints.delete(mine.id)


def test_an_absent_server_is_one_line(server, capsys):
    code = cli.main(
        ["endpoints", "list", "--api-base", "http://127.0.0.1:9", "--api-key", server.api_key]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.startswith("openissuing: cannot reach the server at http://127.0.0.1:9")
    assert len(captured.err.splitlines()) == 1
