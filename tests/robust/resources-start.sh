#!/bin/sh
exec "${SHELL:-/bin/sh}" "$(dirname "$0")/resources.sh" start
