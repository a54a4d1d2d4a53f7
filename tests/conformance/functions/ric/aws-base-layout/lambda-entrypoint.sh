#!/bin/sh
# Our equivalent of /lambda-entrypoint.sh in AWS's Lambda base images: the image's CMD (the
# handler) arrives as $1 and becomes _HANDLER; the runtime's bootstrap then takes over.
if [ $# -ne 1 ]; then
    echo "entrypoint requires the handler name to be the first argument" >&2
    exit 142
fi
export _HANDLER="$1"

if [ -z "${AWS_LAMBDA_RUNTIME_API:-}" ]; then
    # AWS's images start their bundled emulator here; this one has none.
    echo "AWS_LAMBDA_RUNTIME_API is not set: run this image under a Lambda Runtime API" \
        "(Lambkin, or aws-lambda-rie /lambda-entrypoint.sh $1)" >&2
    exit 1
fi
exec /var/runtime/bootstrap
