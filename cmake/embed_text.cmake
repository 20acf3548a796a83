# cmake -DINPUT=file -DOUTPUT=file.cpp -DNAMESPACE=ns -DFUNCTION=name -P embed_text.cmake
# Writes a C++ source defining `std::string_view ns::name()` returning the file's bytes
# (as hex escapes in chunks: no raw-string delimiter can clash with the content).
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" length)
set(body "")
set(offset 0)
while(offset LESS length)
  string(SUBSTRING "${content}" ${offset} 2048 chunk)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" chunk "${chunk}")
  string(APPEND body "  \"${chunk}\"\n")
  math(EXPR offset "${offset} + 2048")
endwhile()
math(EXPR bytes "${length} / 2")
file(WRITE "${OUTPUT}.tmp" "// Generated from ${INPUT} by cmake/embed_text.cmake: do not edit.
#include <string_view>

namespace ${NAMESPACE} {

std::string_view ${FUNCTION}() {
  static const char text[] =
${body}  ;
  return std::string_view(text, ${bytes});
}

} // namespace ${NAMESPACE}
")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
