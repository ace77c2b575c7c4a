#!/usr/bin/env bash
# The README's first command: runs the offline Quickstart example. It links only the SQLite
# store, so the only system packages it needs are libsqlite3-dev and pkg-config; this installs
# them if they are missing (nothing the PostgreSQL or MongoDB stores need) and runs the example.
#
#     scripts/quickstart.sh            # 2,500 requests
#     scripts/quickstart.sh 20000      # more
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with the system-library targets Quickstart links (scripts/check-quickstart.sh).
QUICKSTART_PACKAGES=(pkg-config libsqlite3-dev)

scripts/install-deps.sh "${QUICKSTART_PACKAGES[@]}"
exec swift run Quickstart "$@"
