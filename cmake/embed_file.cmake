# Script mode helper for guard_embed: writes IN as a byte array into OUT.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\n"
  "namespace guard::embedded {\nstatic const unsigned char k_${SYMBOL}[] = {${bytes}0};\n"
  "std::string_view ${SYMBOL}() {\n  return {reinterpret_cast<const char*>(k_${SYMBOL}), ${len}};\n}\n}\n")
