# Generates a C++ source holding every migration file as a string, so the binary
# carries its schema. Inputs: MIGRATIONS_DIR, OUTPUT.
file(GLOB files RELATIVE ${MIGRATIONS_DIR} ${MIGRATIONS_DIR}/*.sql)
list(SORT files)
set(body "// Generated from persistence/migrations by embed_migrations.cmake. Do not edit.\n#include \"persistence/migration_files.hpp\"\nnamespace atendeai::persistence {\nconst std::vector<migration_file>& migration_files() {\n  static const std::vector<migration_file> files = {\n")
foreach(f ${files})
  file(READ ${MIGRATIONS_DIR}/${f} content)
  set(body "${body}    {\"${f}\", R\"atendeai_sql(${content})atendeai_sql\"},\n")
endforeach()
set(body "${body}  };\n  return files;\n}\n} // namespace atendeai::persistence\n")
file(WRITE ${OUTPUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUTPUT}.tmp ${OUTPUT})
