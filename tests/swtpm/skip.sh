#!/bin/bash
# skip.sh WHY: stands in for a test that cannot be built here (common.sh skip).
set -euo pipefail
. "$SEALBOOT_SRC/tests/lib/common.sh"
skip "$*"
