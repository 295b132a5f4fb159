#!/usr/bin/env bash
# Creates the integration test databases with sqlcmd, in the order run-order gives. Used by the init service in
# docker-compose.yml and by .github/workflows/integration.yml (inside the SQL Server container); the test suite
# builds the same databases itself from the same files, so running this first is optional for the tests.
#
# Environment: MSSQL_SA_PASSWORD (required), MSSQL_SERVER (default localhost), MSSQL_PORT (default 1433),
# SQLCMD (default /opt/mssql-tools18/bin/sqlcmd, as in the SQL Server 2022 image).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
sqlcmd="${SQLCMD:-/opt/mssql-tools18/bin/sqlcmd}"
server="${MSSQL_SERVER:-localhost},${MSSQL_PORT:-1433}"
# sqlcmd reads the password from SQLCMDPASSWORD, which keeps it off the command line (and out of `ps`).
export SQLCMDPASSWORD="${MSSQL_SA_PASSWORD:?set MSSQL_SA_PASSWORD to the sa password}"

while read -r database script; do
	case "$database" in '' | '#'*) continue ;; esac
	echo "init: $script in $database"
	# -C trusts the container's self-signed certificate; -b stops at the first error with a non-zero exit.
	"$sqlcmd" -S "$server" -U sa -C -b -I -d "$database" -i "$here/$script" </dev/null
done < "$here/run-order"
echo "init: test databases ready"
