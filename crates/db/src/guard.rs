//! The parser-based guard for SQL written by a language model. Only a single read-only
//! `SELECT` (CTEs allowed, but not recursive ones: a recursive CTE can double a value
//! each round and take a backend's memory faster than a timeout fires) over the
//! `activities` relation, with functions from an allowlist, gets through; everything
//! else is refused before it reaches the database.
//! The sandbox (read-only transaction, reader role, row-level security, timeout) still
//! applies to what passes: the guard is the first of two walls, not the only one.

use sqlparser::ast::{
    DataType, Expr, ObjectName, ObjectNamePart, Query, Select, SetExpr, Statement, TableFactor,
    Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use std::ops::ControlFlow;

/// The only table a generated query may read.
pub const ALLOWED_RELATION: &str = "activities";

/// Set-returning functions that may stand in FROM.
const TABLE_FUNCTIONS: &[&str] = &["generate_series", "unnest"];

/// Functions a generated query may call: aggregates, arithmetic, text and date helpers.
/// Nothing that reads files, sleeps, changes settings or looks at the catalog.
const ALLOWED_FUNCTIONS: &[&str] = &[
    "abs",
    "avg",
    "bool_and",
    "bool_or",
    "ceil",
    "ceiling",
    "coalesce",
    "concat",
    "count",
    "date",
    "date_part",
    "date_trunc",
    "dense_rank",
    "extract",
    "first_value",
    "floor",
    "generate_series",
    "greatest",
    "initcap",
    "lag",
    "last_value",
    "lead",
    "least",
    "length",
    "lower",
    "make_date",
    "make_interval",
    "max",
    "min",
    "mod",
    "nullif",
    "ntile",
    "percentile_cont",
    "percentile_disc",
    "power",
    "rank",
    "round",
    "row_number",
    "sqrt",
    "stddev",
    "stddev_pop",
    "stddev_samp",
    "string_agg",
    "sum",
    "to_char",
    "trim",
    "trunc",
    "unnest",
    "upper",
    "variance",
    "width_bucket",
];

/// Why a query was refused; the text is safe to show to the athlete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    #[error("the query could not be parsed")]
    Parse,
    #[error("exactly one statement is allowed")]
    NotOneStatement,
    #[error("only SELECT queries are allowed")]
    NotSelect,
    #[error("the query may read only the activities relation, not {0}")]
    Relation(String),
    #[error("the function {0} is not allowed")]
    Function(String),
    #[error("{0} is not allowed")]
    Clause(&'static str),
}

/// Checks `sql`; `Ok` carries the one parsed statement's canonical text.
pub fn check(sql: &str) -> Result<String, GuardError> {
    let statements =
        Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(|_| GuardError::Parse)?;
    let [statement] = statements.as_slice() else {
        return Err(GuardError::NotOneStatement);
    };
    if !matches!(statement, Statement::Query(_)) {
        return Err(GuardError::NotSelect);
    }
    let mut walker = Walker { scopes: Vec::new() };
    match statement.visit(&mut walker) {
        ControlFlow::Break(e) => Err(e),
        ControlFlow::Continue(()) => Ok(statement.to_string()),
    }
}

struct Walker {
    /// One entry per enclosing query, innermost last.
    scopes: Vec<CteScope>,
}

/// The CTEs one query declares, and which of their bodies the walk is inside.
struct CteScope {
    /// Lower-cased names, in declaration order.
    names: Vec<String>,
    /// Each CTE body, to recognise it when the walk enters it (compared, never read).
    bodies: Vec<*const Query>,
    /// Index of the CTE whose body is being walked; `None` in the main query.
    inside: Option<usize>,
}

impl CteScope {
    /// Whether `name` refers to one of these CTEs from where the walk is. As in
    /// PostgreSQL, a plain CTE sees only the CTEs declared before it, so
    /// `WITH messages AS (SELECT * FROM messages)` reads the real table, not itself.
    fn resolves(&self, name: &str) -> bool {
        let visible = match self.inside {
            Some(i) => &self.names[..i],
            None => &self.names[..],
        };
        visible.iter().any(|n| n == name)
    }
}

fn single_name(name: &ObjectName) -> Option<String> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(ident)] => Some(ident.value.to_ascii_lowercase()),
        _ => None,
    }
}

/// Whether a cast to `data_type` looks something up in the catalog (`regclass`,
/// `pg_catalog.regproc`, `"regrole"[]`, …): judged by the last part of the type's name.
fn is_catalog_type(data_type: &DataType) -> bool {
    if matches!(data_type, DataType::Regclass) {
        return true;
    }
    let text = data_type.to_string().to_ascii_lowercase();
    let base = text.split('(').next().unwrap_or_default();
    let base = base.trim_end_matches(|c: char| c == '[' || c == ']' || c.is_whitespace());
    let last = base.rsplit('.').next().unwrap_or_default();
    last.trim_matches('"').starts_with("reg")
}

/// `TABLE x` anywhere in a set expression (`SELECT … UNION TABLE x` too) reads a whole
/// relation without naming it in a FROM clause.
fn has_table_command(body: &SetExpr) -> bool {
    match body {
        SetExpr::Table(_) => true,
        SetExpr::SetOperation { left, right, .. } => {
            has_table_command(left) || has_table_command(right)
        }
        _ => false,
    }
}

impl Visitor for Walker {
    type Break = GuardError;

    fn pre_visit_statement(&mut self, statement: &Statement) -> ControlFlow<GuardError> {
        // Data-modifying CTEs and the like surface here as nested statements.
        if matches!(statement, Statement::Query(_)) {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(GuardError::NotSelect)
        }
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<GuardError> {
        if !query.locks.is_empty() {
            return ControlFlow::Break(GuardError::Clause("a locking clause"));
        }
        if query.for_clause.is_some() || query.settings.is_some() || query.format_clause.is_some() {
            return ControlFlow::Break(GuardError::Clause("this clause"));
        }
        if !query.pipe_operators.is_empty() {
            return ControlFlow::Break(GuardError::Clause("a pipe operator"));
        }
        if has_table_command(&query.body) {
            return ControlFlow::Break(GuardError::Clause("TABLE"));
        }
        if query.with.as_ref().is_some_and(|w| w.recursive) {
            return ControlFlow::Break(GuardError::Clause("a recursive query"));
        }
        let this: *const Query = query;
        if let Some(parent) = self.scopes.last_mut()
            && let Some(i) = parent.bodies.iter().position(|b| *b == this)
        {
            parent.inside = Some(i);
        }
        let ctes = query.with.iter().flat_map(|w| &w.cte_tables);
        self.scopes.push(CteScope {
            names: ctes
                .clone()
                .map(|cte| cte.alias.name.value.to_ascii_lowercase())
                .collect(),
            bodies: ctes.map(|cte| &*cte.query as *const Query).collect(),
            inside: None,
        });
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, query: &Query) -> ControlFlow<GuardError> {
        self.scopes.pop();
        let this: *const Query = query;
        if let Some(parent) = self.scopes.last_mut()
            && parent.bodies.contains(&this)
        {
            parent.inside = None;
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<GuardError> {
        if select.into.is_some() {
            return ControlFlow::Break(GuardError::Clause("SELECT INTO"));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<GuardError> {
        let allowed = single_name(relation).is_some_and(|name| {
            name == ALLOWED_RELATION
                || TABLE_FUNCTIONS.contains(&name.as_str())
                || self.scopes.iter().any(|scope| scope.resolves(&name))
        });
        if allowed {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(GuardError::Relation(relation.to_string()))
        }
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<GuardError> {
        match factor {
            TableFactor::Table { .. }
            | TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::UNNEST { .. } => ControlFlow::Continue(()),
            TableFactor::Function { name, .. } => {
                let ok = single_name(name).is_some_and(|n| TABLE_FUNCTIONS.contains(&n.as_str()));
                if ok {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(GuardError::Function(name.to_string()))
                }
            }
            _ => ControlFlow::Break(GuardError::Clause("this kind of FROM item")),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<GuardError> {
        match expr {
            Expr::Function(f) => {
                let ok =
                    single_name(&f.name).is_some_and(|n| ALLOWED_FUNCTIONS.contains(&n.as_str()));
                if ok {
                    ControlFlow::Continue(())
                } else {
                    ControlFlow::Break(GuardError::Function(f.name.to_string()))
                }
            }
            Expr::Cast { data_type, .. }
            | Expr::TypedString(sqlparser::ast::TypedString { data_type, .. })
                if is_catalog_type(data_type) =>
            {
                ControlFlow::Break(GuardError::Clause("a catalog type cast"))
            }
            Expr::Convert {
                data_type: Some(data_type),
                ..
            } if is_catalog_type(data_type) => {
                ControlFlow::Break(GuardError::Clause("a catalog type cast"))
            }
            _ => ControlFlow::Continue(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_questions() {
        for sql in [
            "SELECT count(*) FROM activities WHERE sport_type = 'Run'",
            "SELECT date_trunc('month', start_date_local) AS month, sum(distance_m) / 1000 AS km \
             FROM activities GROUP BY 1 ORDER BY 1",
            "WITH runs AS (SELECT * FROM activities WHERE sport_type = 'Run') \
             SELECT name, distance_m FROM runs ORDER BY distance_m DESC LIMIT 5",
            "SELECT d::date FROM generate_series(date '2024-01-01', date '2024-01-31', interval '1 day') AS d",
            "SELECT extract(dow FROM start_date_local) AS dow, count(*) FROM activities GROUP BY 1",
            "SELECT * FROM (SELECT name, rank() OVER (ORDER BY moving_time_s DESC) r FROM activities) t WHERE r <= 3",
        ] {
            assert!(check(sql).is_ok(), "{sql}: {:?}", check(sql));
        }
    }

    #[test]
    fn refuses_hostile_sql() {
        let cases = [
            ("DELETE FROM activities", GuardError::NotSelect),
            ("UPDATE activities SET name = 'x'", GuardError::NotSelect),
            (
                "INSERT INTO activities (id) VALUES (1)",
                GuardError::NotSelect,
            ),
            ("DROP TABLE activities", GuardError::NotSelect),
            ("CREATE TABLE x (id int)", GuardError::NotSelect),
            ("TRUNCATE activities", GuardError::NotSelect),
            ("SET ROLE postgres", GuardError::NotSelect),
            ("RESET ROLE", GuardError::NotSelect),
            ("COPY activities TO '/tmp/x'", GuardError::NotSelect),
            ("SELECT 1; SELECT 2", GuardError::NotOneStatement),
            (
                "SELECT * FROM activities; DROP TABLE activities",
                GuardError::NotOneStatement,
            ),
            ("", GuardError::NotOneStatement),
            (
                "SELECT pg_sleep(10)",
                GuardError::Function("pg_sleep".into()),
            ),
            (
                "SELECT set_config('stravatalk.athlete_id', '2', true)",
                GuardError::Function("set_config".into()),
            ),
            (
                "SELECT pg_read_file('/etc/passwd')",
                GuardError::Function("pg_read_file".into()),
            ),
            (
                "SELECT current_setting('stravatalk.athlete_id')",
                GuardError::Function("current_setting".into()),
            ),
            (
                "SELECT * FROM pg_catalog.pg_authid",
                GuardError::Relation("pg_catalog.pg_authid".into()),
            ),
            (
                "SELECT * FROM pg_user",
                GuardError::Relation("pg_user".into()),
            ),
            (
                "SELECT * FROM information_schema.tables",
                GuardError::Relation("information_schema.tables".into()),
            ),
            (
                "SELECT * FROM public.activities",
                GuardError::Relation("public.activities".into()),
            ),
            (
                "SELECT * FROM strava_tokens",
                GuardError::Relation("strava_tokens".into()),
            ),
            (
                "SELECT * FROM activities a JOIN athletes b ON a.athlete_id = b.id",
                GuardError::Relation("athletes".into()),
            ),
            (
                "SELECT (SELECT count(*) FROM messages)",
                GuardError::Relation("messages".into()),
            ),
            (
                "SELECT * FROM activities FOR UPDATE",
                GuardError::Clause("a locking clause"),
            ),
            (
                "SELECT * INTO stolen FROM activities",
                GuardError::Clause("SELECT INTO"),
            ),
            (
                "SELECT 'pg_authid'::regclass",
                GuardError::Clause("a catalog type cast"),
            ),
            (
                "WITH gone AS (DELETE FROM activities RETURNING *) SELECT * FROM gone",
                GuardError::NotSelect,
            ),
            (
                "SELECT * FROM dblink('x', 'select 1') AS t(a int)",
                GuardError::Relation("dblink".into()),
            ),
        ];
        for (sql, expected) in cases {
            assert_eq!(check(sql), Err(expected), "{sql}");
        }
    }

    #[test]
    fn a_cte_named_like_a_table_does_not_hide_the_table() {
        for (sql, relation) in [
            (
                "WITH messages AS (SELECT * FROM messages) SELECT * FROM messages",
                "messages",
            ),
            (
                "WITH pg_database AS (SELECT * FROM pg_database) SELECT datname FROM pg_database",
                "pg_database",
            ),
            // A CTE sees only the CTEs declared before it.
            (
                "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
                "b",
            ),
        ] {
            assert_eq!(
                check(sql),
                Err(GuardError::Relation(relation.into())),
                "{sql}"
            );
        }
        for sql in [
            "WITH a AS (SELECT * FROM activities), b AS (SELECT * FROM a) SELECT * FROM b",
            "WITH activities AS (SELECT * FROM activities WHERE sport_type = 'Run') SELECT count(*) FROM activities",
            "WITH a AS (SELECT 1 AS x) SELECT * FROM activities WHERE EXISTS (SELECT * FROM a)",
        ] {
            assert!(check(sql).is_ok(), "{sql}: {:?}", check(sql));
        }
    }

    #[test]
    fn table_commands_and_qualified_catalog_casts_are_refused() {
        for sql in [
            "(TABLE messages)",
            "WITH a AS (TABLE messages) SELECT * FROM a",
            "SELECT name FROM activities UNION ALL TABLE messages",
            "SELECT * FROM (TABLE pg_database) t",
        ] {
            assert_eq!(check(sql), Err(GuardError::Clause("TABLE")), "{sql}");
        }
        for sql in [
            "SELECT 'pg_authid'::pg_catalog.regclass",
            "SELECT CAST('pg_database' AS pg_catalog.regclass)::oid",
            "SELECT '{pg_authid}'::regclass[]",
            "SELECT 'pg_catalog'::pg_catalog.regnamespace",
            "SELECT 'now'::\"regproc\"",
            "SELECT regrole 'postgres'",
        ] {
            assert_eq!(
                check(sql),
                Err(GuardError::Clause("a catalog type cast")),
                "{sql}"
            );
        }
        assert!(check("SELECT distance_m::numeric(10, 1) FROM activities").is_ok());
    }

    #[test]
    fn refuses_every_query_of_the_hostile_corpus() {
        let corpus = include_str!("../tests/hostile_sql.txt");
        let queries: Vec<&str> = corpus
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        assert!(queries.len() > 40);
        for sql in queries {
            assert!(check(sql).is_err(), "the guard let through: {sql}");
        }
    }

    #[test]
    fn a_cte_name_does_not_leak_out_of_its_query() {
        // The inner CTE called pg_user must not make the outer reference to the real view pass.
        let sql =
            "SELECT * FROM pg_user WHERE EXISTS (WITH pg_user AS (SELECT 1) SELECT * FROM pg_user)";
        assert!(matches!(check(sql), Err(GuardError::Relation(_))));
    }

    #[test]
    fn deep_nesting_is_refused_not_a_crash() {
        let sql = format!("SELECT {}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(check(&sql).is_err());
    }
}
