# shellcheck shell=sh
# Tomcat 9 era options for AM
CATALINA_OPTS="$CATALINA_OPTS -Dorg.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH=true -Xmx192m -XX:+UseSerialGC"
# -Dorg.apache.tomcat.util.buf.UDecoder.ALLOW_ENCODED_SLASH=false (a comment, not an option)
export CATALINA_OPTS
