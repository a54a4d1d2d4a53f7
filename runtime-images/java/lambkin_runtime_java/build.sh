#!/bin/sh
# Compile Lambkin's Java runtime client and its aws-lambda-java-core-compatible interfaces:
#   build.sh OUTPUT_DIR   -> OUTPUT_DIR/aws-lambda-java-core.jar, OUTPUT_DIR/lambkin-java-runtime.jar
# Needs javac/jar (JDK 17) and Debian's Jackson jars (libjackson2-databind-java) in /usr/share/java.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT_DIR}
jackson=/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-core.jar:/usr/share/java/jackson-annotations.jar
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/core" "$work/runtime"
javac --release 11 -nowarn -d "$work/core" $(find "$here/aws-lambda-java-core" -name '*.java')
jar --create --file "$work/aws-lambda-java-core.jar" -C "$work/core" .
javac --release 17 -nowarn -cp "$work/core:$jackson" -d "$work/runtime" $(find "$here/runtime" -name '*.java')
jar --create --file "$work/lambkin-java-runtime.jar" -C "$work/runtime" .
mv "$work/aws-lambda-java-core.jar" "$work/lambkin-java-runtime.jar" "$out/"
