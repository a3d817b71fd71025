# Sourced by the project's scripts: points JAVA_HOME at a JDK 21 or newer, or stops with a message.
# Keeps a JAVA_HOME that is already 21+; otherwise takes the newest 21+ JDK under /usr/lib/jvm or on the PATH.

java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}' | cut -d. -f1
}

pick_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ] && [ "$(java_major "$JAVA_HOME")" -ge 21 ]; then
    return 0
  fi
  local candidate
  for candidate in $(ls -d /usr/lib/jvm/*/ /Library/Java/JavaVirtualMachines/*/Contents/Home/ 2>/dev/null | sort -rV); do
    candidate="${candidate%/}"
    if [ -x "$candidate/bin/java" ] && [ "$(java_major "$candidate")" -ge 21 ]; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  if command -v java >/dev/null 2>&1; then
    candidate="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    if [ "$(java_major "$candidate")" -ge 21 ]; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  fi
  echo "No JDK 21 or newer found (JAVA_HOME='${JAVA_HOME:-}'). Install one (for example Eclipse Temurin 21 or 25) and set JAVA_HOME to it." >&2
  exit 1
}

pick_jdk
export PATH="$JAVA_HOME/bin:$PATH"
