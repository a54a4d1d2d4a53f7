#!/bin/sh
# Compile Lambkin's .NET runtime client with Mono's mcs:
#   build.sh OUTPUT_DIR
#     -> OUTPUT_DIR/Amazon.Lambda.Core.dll, Amazon.Lambda.Serialization.SystemTextJson.dll,
#        Amazon.Lambda.Serialization.Json.dll (what function code compiles against, as AWS's
#        NuGet packages of those names) and LambkinRuntime.exe (the client).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT_DIR}
mkdir -p "$out"
mcs -nologo -warnaserror -optimize+ -target:library -out:"$out/Amazon.Lambda.Core.dll" "$here/core/Core.cs"
mcs -nologo -warnaserror -optimize+ -target:library -r:"$out/Amazon.Lambda.Core.dll" \
    -out:"$out/Amazon.Lambda.Serialization.SystemTextJson.dll" \
    "$here/serialization/Json.cs" "$here/serialization/SystemTextJson.cs"
mcs -nologo -warnaserror -optimize+ -target:library -r:"$out/Amazon.Lambda.Core.dll" \
    -out:"$out/Amazon.Lambda.Serialization.Json.dll" \
    "$here/serialization/Json.cs" "$here/serialization/NewtonsoftJson.cs"
mcs -nologo -warnaserror -optimize+ -target:exe -r:"$out/Amazon.Lambda.Core.dll" \
    -out:"$out/LambkinRuntime.exe" "$here/serialization/Json.cs" "$here"/runtime/*.cs
