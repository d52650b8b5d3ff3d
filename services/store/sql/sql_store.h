// The Store of both SQL backends (sqlite/, postgres/), built on their
// connections (sql/connection.h).
#ifndef RUTA_STORE_SQL_SQL_STORE_H_
#define RUTA_STORE_SQL_SQL_STORE_H_

#include <memory>
#include <vector>

#include "ruta/store/store.h"
#include "sql/connection.h"

namespace ruta::store::sql_internal {

// A Store whose writer thread group-commits on `writer` (at most
// `max_group_size` >= 1 write functions per transaction, each under its own
// savepoint) and whose reader threads, one per connection of `readers`
// (at least one), run read transactions. Takes ownership of the connections.
std::unique_ptr<Store> MakeSqlStore(
    int max_group_size, std::unique_ptr<Connection> writer,
    std::vector<std::unique_ptr<Connection>> readers);

}  // namespace ruta::store::sql_internal

#endif  // RUTA_STORE_SQL_SQL_STORE_H_
