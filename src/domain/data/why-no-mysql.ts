// Why an instance has no MySQL server, when no default exists: said by `ocim demo`, the one-click
// demo and the instance page's Data panel, so an operator knows the one step that turns it on.
import type { Deps } from "../../deps.js";
import { findMariadbd } from "../../embedded/mariadb.js";

/** The default MySQL server new instances (and the demo) get, or null. */
export function defaultMysqlService(deps: Pick<Deps, "db">) {
  return deps.db.dataService.findFirst({ where: { kind: "mysql", isDefault: true }, orderBy: { id: "asc" }, select: { id: true, name: true } });
}

/**
 * Why there is no default MySQL server, ending with what to do. `mariadbInstalled` is injected for
 * tests; by default, whether this host has the MariaDB that `npm start` would run.
 */
export function whyNoMysql(mariadbInstalled: () => boolean = () => findMariadbd() !== null): string {
  return mariadbInstalled()
    ? "no default MySQL server is configured (add one in admin › Data services, or restart Ocim: npm start records its embedded MariaDB as the default)"
    : "no MySQL server is configured and MariaDB is not installed, so npm start runs none (sudo apt-get install mariadb-server, then restart Ocim)";
}
