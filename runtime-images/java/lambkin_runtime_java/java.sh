#!/bin/sh
# java, with the heap sized from the function's memory as AWS's Java 17 runtime sizes it:
# -XX:MaxHeapSize at 85% of AWS_LAMBDA_FUNCTION_MEMORY_SIZE (in KiB, rounded), the serial GC,
# class-data sharing, and tiered compilation stopped at C1. JAVA_TOOL_OPTIONS still applies.
#   java.sh [java arguments...]
memory=${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-}
case $memory in '' | *[!0-9]* | ??????*) memory=128 ;; esac
exec java "-XX:MaxHeapSize=$(((memory * 1024 * 85 + 50) / 100))k" -XX:+UseSerialGC -Xshare:auto \
    -XX:+TieredCompilation -XX:TieredStopAtLevel=1 --add-opens=java.base/java.io=ALL-UNNAMED \
    -Djava.net.preferIPv4Stack=true -XX:+ErrorFileToStderr "$@"
