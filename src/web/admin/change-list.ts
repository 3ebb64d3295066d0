// The change list of any model: search, filters, sort by a column, pagination. One page query and
// one count (shared for a while, sharedCount), both on the model's own table (ORDER BY an indexed
// column, then id; LIMIT/OFFSET), so a list of 10,000 rows costs the same as a list of 100.
import type { Deps } from "../../deps.js";
import { AppError } from "../../errors.js";
import { escapeLike } from "../../db.js";
import { hasNul } from "../../domain/validation/field-reader.js";
import { sharedReadOf } from "../shared-read.js";
import type { AdminModel, Cell, Filter, Option } from "./types.js";

export interface ListQuery {
  q: string;
  order: string;
  page: number;
  filters: Record<string, string>;
}

export interface ChangeListView {
  query: ListQuery;
  /** The current query string's parameters, for links that change one of them. */
  params: Record<string, string>;
  columns: { label: string; sortKey?: string; direction?: "asc" | "desc" }[];
  rows: { id: number; title: string; cells: Cell[] }[];
  filters: { key: string; label: string; options: Option[]; current: string }[];
  total: number;
  page: number;
  pages: number;
  /** Page numbers to link, null where a run of pages is left out. */
  pageLinks: (number | null)[];
  pageSize: number;
  searchHint?: string;
}

const MAX_SEARCH = 200;

function single(value: unknown, name: string): string {
  if (value === undefined) return "";
  if (typeof value !== "string") throw new AppError("bad_request", `The parameter "${name}" was given more than once.`);
  if (hasNul(value)) throw new AppError("bad_request", `${name === "q" ? "The search text" : `The parameter "${name}"`} contains a NUL character (\\0).`);
  return value;
}

export function parseListQuery(model: AdminModel, query: Record<string, unknown>): ListQuery {
  const q = single(query.q, "q").trim();
  if (q.length > MAX_SEARCH) throw new AppError("bad_request", `The search text is too long (at most ${MAX_SEARCH} characters).`);
  const order = single(query.o, "o") || model.list.defaultOrder;
  const sortable = new Set(model.list.columns.flatMap((c) => (c.sort ? [c.sort] : [])));
  if (!sortable.has(order.replace(/^-/, ""))) throw new AppError("bad_request", `The ${model.plural.toLowerCase()} cannot be sorted by "${order}".`);
  const pageText = single(query.p, "p") || "1";
  if (!/^\d{1,6}$/.test(pageText) || Number(pageText) < 1) throw new AppError("bad_request", `"${pageText.slice(0, 20)}" is not a page number.`);
  const filters: Record<string, string> = {};
  for (const filter of model.list.filters ?? []) {
    const value = single(query[filter.key], filter.key);
    if (value) filters[filter.key] = value;
  }
  return { q, order, page: Number(pageText), filters };
}

/** `{ instance: { name: cond } }` for "instance.name". */
function nested(path: string, condition: object): object {
  return path.split(".").reduceRight<object>((inner, key) => ({ [key]: inner }), condition);
}

/**
 * A filter's choices are the same for everyone: a web process's lists share them for
 * SIDEBAR_CACHE_MS, like the sidebar. Some need a scan to find (the tags in use, the audit trail's
 * actions and subject types: no index lists a column's distinct values); on bench/seed.ts's fleet
 * the tag scan alone cost 4.9 ms of PostgreSQL per view, against 1.7 ms for the page's own query.
 */
const filterChoices = sharedReadOf(async (deps, filter: Filter) => filter.options(deps));

/** A list's count: what is counted, and what tells it from the others (list, filters, search). */
interface CountOf {
  model: AdminModel;
  where: object;
  key: string;
}

/**
 * A list's count, shared like its filters' choices for SIDEBAR_CACHE_MS by list, filters and search
 * (the 500 newest of those): the pager's "of 100,000" may be that much behind, its rows never are,
 * and the count never says less than they show (pageTotal).
 * Counting on every view was a second model query (Prisma 6 compiles each one on the event loop) and
 * a scan of every match: one web process, 20 clients, the appserver list filtered by status answered
 * 210–216 req/s with 2.2 ms of PostgreSQL CPU per view, 280–360 with 0.8–1.0 ms once shared; the
 * audit trail 300–362 against 525–537 (issue 17). A search of the instance list is counted in its
 * page's own scan instead (a window count costs next to nothing there).
 */
const sharedCount = sharedReadOf((deps, c: CountOf) => c.model.list.count(deps.db, c.where), { keyOf: (c) => c.key, max: 500 });

/** parseListQuery names the filters in the model's order, so one query gives one key. */
function countKey(model: AdminModel, query: Pick<ListQuery, "q" | "filters">): string {
  return JSON.stringify([model.slug, query.q, query.filters]);
}

/**
 * How many objects a model has, as its unfiltered change list counts them (the same shared count).
 * The admin's index counted every table on every view: 8.6 ms of PostgreSQL per view on
 * bench/seed.ts's fleet (100,000 appservers, their log lines and audit events), 111 req/s.
 */
export function modelCount(deps: Deps, model: AdminModel): Promise<number> {
  return sharedCount(deps, { model, where: {}, key: countKey(model, { q: "", filters: {} }) });
}

/**
 * The count a page shows: a page that is not full (and not past the end) says it exactly, so a list
 * just added to or deleted from shows the rows and the count that go together (the shared count
 * could be SIDEBAR_CACHE_MS old); a full page, the shared count, but never fewer than its rows say.
 */
async function pageTotal(rows: unknown[], skip: number, pageSize: number, counted: () => Promise<number>): Promise<number> {
  if (rows.length < pageSize && (rows.length > 0 || skip === 0)) return skip + rows.length;
  return Math.max(await counted(), skip + rows.length);
}

async function resolveFilters(deps: Deps, model: AdminModel, query: ListQuery) {
  const where: object[] = [];
  const views: ChangeListView["filters"] = [];
  for (const filter of model.list.filters ?? []) {
    const options = await filterChoices(deps, filter);
    const current = query.filters[filter.key] ?? "";
    if (current) {
      if (!options.some((o) => o.value === current)) {
        throw new AppError("bad_request", `"${current.slice(0, 40)}" is not one of the choices of the filter "${filter.label}".`);
      }
      where.push(filter.where(current));
    }
    views.push({ key: filter.key, label: filter.label, options, current });
  }
  return { where, views };
}

export async function loadChangeList(deps: Deps, model: AdminModel, query: ListQuery): Promise<ChangeListView> {
  const { where: filterWhere, views: filterViews } = await resolveFilters(deps, model, query);
  const conditions = [...filterWhere];
  const search = model.list.search;
  if (query.q && search) {
    // Prisma passes `contains` to LIKE unescaped (prisma/orm#19506): % and _ would be wildcards.
    const contains = { contains: escapeLike(query.q), mode: "insensitive" };
    conditions.push({ OR: [...search.fields.map((f) => nested(f, contains)), ...(search.extra?.(query.q) ?? [])] });
  }
  const where = conditions.length ? { AND: conditions } : {};
  const direction = query.order.startsWith("-") ? "desc" : "asc";
  const sortField = query.order.replace(/^-/, "");
  const pageSize = deps.config.ADMIN_PAGE_SIZE;
  const skip = (query.page - 1) * pageSize;
  // The page and its count (a page past the end is found empty, then refused). A raw page may count
  // its matches in its own scan (a search's); any other count is shared, so it is rarely read, and
  // not read at all for a page that is not full (pageTotal).
  const page = model.list.page
    ? await model.list.page(deps.db, { filters: query.filters, q: search ? query.q : "", sortField, direction, skip, take: pageSize })
    // id breaks ties, so rows with equal values keep their place from one page to the next.
    : { rows: await model.list.fetch(deps.db, { where, orderBy: [{ [model.list.orderFields?.[sortField] ?? sortField]: direction }, { id: direction }], skip, take: pageSize }), total: null };
  const rows = page.rows;
  const total = page.total ?? await pageTotal(rows, skip, pageSize, () => sharedCount(deps, { model, where, key: countKey(model, query) }));
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (query.page > pages) throw new AppError("not_found", `Page ${query.page} does not exist: there ${pages === 1 ? "is 1 page" : `are ${pages} pages`}.`);
  const params: Record<string, string> = { ...query.filters };
  if (query.q) params.q = query.q;
  if (query.order !== model.list.defaultOrder) params.o = query.order;
  return {
    query,
    params,
    columns: model.list.columns.map((c) => ({
      label: c.label,
      sortKey: c.sort,
      direction: c.sort === sortField ? direction : undefined,
    })),
    rows: rows.map((row) => ({ id: row.id, title: model.titleOf(row), cells: model.list.columns.map((c) => c.cell(row)) })),
    filters: filterViews,
    total,
    page: query.page,
    pages,
    pageLinks: pageWindow(query.page, pages),
    pageSize,
    searchHint: search?.hint,
  };
}

/** 1 … 4 5 [6] 7 8 … 200 */
export function pageWindow(page: number, pages: number): (number | null)[] {
  const out: (number | null)[] = [];
  for (let n = 1; n <= pages; n++) {
    if (n === 1 || n === pages || Math.abs(n - page) <= 2) out.push(n);
    else if (out[out.length - 1] !== null) out.push(null);
  }
  return out;
}
