#!/bin/sh
# Compile Lambkin's Java runtime client against AWS's Java libraries:
#   build.sh OUTPUT_DIR LIB_DIR
#     LIB_DIR: aws-lambda-java-core and aws-lambda-java-serialization jars (java-libs.txt, fetched
#              by orchestrator/java_libs.py)
#     -> OUTPUT_DIR/lambkin-java-runtime.jar and a copy of those jars: the runtime's classpath is
#        OUTPUT_DIR/*, and nothing else there (older builds' jars are removed).
# Needs javac/jar (JDK 17).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTPUT_DIR LIB_DIR}
lib=${2:?usage: build.sh OUTPUT_DIR LIB_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out" "$work/runtime" "$work/jars"
cp "$lib"/*.jar "$work/jars/"
javac --release 17 -nowarn -cp "$work/jars/*" -d "$work/runtime" $(find "$here/runtime" -name '*.java')
jar --create --file "$work/jars/lambkin-java-runtime.jar" -C "$work/runtime" .
rm -f "$out"/*.jar
mv "$work/jars"/*.jar "$out/"
