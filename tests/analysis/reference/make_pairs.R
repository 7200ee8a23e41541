# Reference contrasts between two breakdown values (period over period, unit vs
# unit) for tests/analysis/test_pairs_reference.py (analysis/compare.py, ``pairs``).
#
# Run from this folder:   Rscript make_pairs.R
# Reads responses.csv, volumes.csv and volumes_sector.csv (written by make_reference.R)
# and writes pairs.csv: one row per case x breakdown x pair (a, b).
#
# The periods: the responses of 1-15 March are labelled "2025-02", the later ones
# "2025-03", so that both halves meet the minimum design and the later one is
# compared with the one before ("this month against the last"). The sectors:
# every pair a < b, as a table of units compared with each other.
#
# d = overall_a - overall_b, both the overall index of a domain, as ratios of
# totals of domain-indicator variables on the one full design; svycontrast() of
# the joint svytotal() gives d and its SE with the covariance of the two domains
# (they share desks, days and, once weighted, the calibration). The interval is
# d +- qt(0.975, df) SE with df = degf(design); p = 2 pt(-|d / SE|, df); p_holm is
# p.adjust(method = "holm") over the pairs of one breakdown (sectors) and p itself
# for the single planned period comparison.

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")

d <- read.csv("responses.csv", colClasses = "character", na.strings = character(0))
vol <- read.csv("volumes.csv")
vol_sec <- read.csv("volumes_sector.csv")
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
for (it in items) {
  x <- suppressWarnings(as.integer(d[[it]]))
  a <- !is.na(x)
  d[[paste0("a_", it)]] <- as.numeric(a)
  d[[paste0("y_", it)]] <- as.numeric(a & x >= 4)
}
d$psu <- paste(d$desk, d$day)
d$one <- 1
d$period <- ifelse(as.integer(substr(d$day, 9, 10)) <= 15, "2025-02", "2025-03")

crit <- list(A = c(A1 = 1, A2 = 1), B = c(B1 = 1, B2 = 1, B3 = 2), C = c(C1 = 1))
crit_w <- c(A = 1, B = 2, C = 1)
comp_items <- items[items != "HL"]
overall_expr <- function(s) {
  ratio <- function(it) sprintf("y_%s%s/a_%s%s", it, s, it, s)
  crit_expr <- function(k) {
    w <- crit[[k]]
    sprintf("(%s)/%s", paste(sprintf("%s*%s", w, sapply(names(w), ratio)), collapse = " + "), sum(w))
  }
  sprintf("((%s)/%s)", paste(sprintf("%s*%s", crit_w, sapply(names(crit), crit_expr)),
                             collapse = " + "), sum(crit_w))
}

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
pop_desk <- data.frame(desk = vol$desk, Freq = vol$volume)
pop_sec <- data.frame(sector = vol_sec$sector, Freq = vol_sec$volume)
designs <- list(
  unweighted = des0,
  poststratified = postStratify(des0, ~desk, pop_desk),
  raked = rake(des0, list(~desk, ~sector), list(pop_desk, pop_sec),
               control = list(maxit = 200, epsilon = 1e-13))
)

asked <- list(
  period = list(c("2025-03", "2025-02")),
  sector = list(c("S1", "S2"), c("S1", "S3"), c("S2", "S3"))
)
res <- list()
for (case in names(designs)) {
  des <- designs[[case]]
  for (by in names(asked)) {
    keys <- sort(unique(d[[by]]))
    vars <- c(paste0("y_", comp_items), paste0("a_", comp_items))
    for (j in seq_along(keys)) {
      ind <- as.numeric(des$variables[[by]] == keys[j])
      for (v in vars) des$variables[[sprintf("%s_%d", v, j)]] <- des$variables[[v]] * ind
    }
    dom_vars <- as.vector(outer(vars, seq_along(keys), function(v, j) sprintf("%s_%d", v, j)))
    tot <- svytotal(as.formula(paste("~", paste(dom_vars, collapse = "+"))), des)
    exprs <- list()
    for (p in asked[[by]]) {
      ja <- match(p[1], keys)
      jb <- match(p[2], keys)
      exprs[[paste(p, collapse = "-")]] <- parse(text = sprintf(
        "%s - %s", overall_expr(sprintf("_%d", ja)), overall_expr(sprintf("_%d", jb))))[[1]]
    }
    con <- svycontrast(tot, exprs)
    df <- degf(des)
    diff <- as.numeric(coef(con))
    se <- as.numeric(SE(con))
    p <- 2 * pt(-abs(diff / se), df)
    half <- qt(0.975, df) * se
    rows <- data.frame(
      case = case, by = by, a = sapply(asked[[by]], `[`, 1), b = sapply(asked[[by]], `[`, 2),
      difference = diff, se = se, df = df, ci_low = diff - half, ci_high = diff + half,
      p_value = p, p_holm = if (length(p) > 1) p.adjust(p, method = "holm") else p
    )
    res[[length(res) + 1]] <- rows
  }
}
ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "pairs.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d pair rows; %s, survey %s\n", nrow(ref), R.version.string,
            as.character(packageVersion("survey"))))
