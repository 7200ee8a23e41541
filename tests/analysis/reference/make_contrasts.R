# Reference contrasts "breakdown value vs the overall index" for
# tests/analysis/test_contrasts_reference.py (analysis/compare.py).
#
# Run from this folder:   Rscript make_contrasts.R
# Reads responses.csv and volumes.csv, volumes_sector.csv (written by make_reference.R;
# same questionnaire, same designs) and writes contrasts.csv: one row per case x
# breakdown x value.
#
# The contrast of value k is d_k = overall_k - overall, where overall_k is the
# overall index (top-two-box share) in the domain k and overall the one of the whole
# sample.  Both are ratios of totals on the one full design: the domain's totals
# are totals of domain-indicator variables (y * 1{k}, a * 1{k}), which is R's
# domain estimation (the same estimate and SE as design[variable == k, ], checked
# below), so svycontrast() of the joint svytotal() gives the difference with the
# covariance between the value and the whole it belongs to.
# p = 2 * pt(-|d / SE|, degf(design)); p_holm = p.adjust(p, "holm") over the values
# that meet the minimum design (analysis.verdict: n >= 30 respondents, df of the
# domain >= 5, and at most half of its strata with fewer than 2 PSUs); p_holm_all
# over every value (for the Holm function alone).

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

crit <- list(A = c(A1 = 1, A2 = 1), B = c(B1 = 1, B2 = 1, B3 = 2), C = c(C1 = 1))
crit_w <- c(A = 1, B = 2, C = 1)
comp_items <- items[items != "HL"]
# The overall index on variables with suffix s ("" = whole sample, "_k" = domain k).
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

res <- list()
for (case in names(designs)) {
  des <- designs[[case]]
  for (by in c("desk", "sector", "unit")) {
    keys <- sort(unique(d[[by]]))
    vars <- c(paste0("y_", comp_items), paste0("a_", comp_items))
    for (j in seq_along(keys)) {
      ind <- as.numeric(des$variables[[by]] == keys[j])
      for (v in vars) des$variables[[sprintf("%s_%d", v, j)]] <- des$variables[[v]] * ind
    }
    dom_vars <- as.vector(outer(vars, seq_along(keys), function(v, j) sprintf("%s_%d", v, j)))
    tot <- svytotal(as.formula(paste("~", paste(c(vars, dom_vars), collapse = "+"))), des)
    exprs <- list(overall = parse(text = overall_expr(""))[[1]])
    for (j in seq_along(keys)) {
      exprs[[sprintf("k%d", j)]] <- parse(text = overall_expr(sprintf("_%d", j)))[[1]]
      exprs[[sprintf("d%d", j)]] <- parse(text = sprintf(
        "%s - %s", overall_expr(sprintf("_%d", j)), overall_expr("")))[[1]]
    }
    con <- svycontrast(tot, exprs)
    est <- coef(con)
    se <- SE(con)
    df <- degf(des)
    rows <- list()
    for (j in seq_along(keys)) {
      sub <- des[des$variables[[by]] == keys[j], ]
      # The domain-indicator estimate is R's subset() estimate.
      sub_tot <- svytotal(as.formula(paste("~", paste(vars, collapse = "+"))), sub)
      sub_con <- svycontrast(sub_tot, list(o = parse(text = overall_expr(""))[[1]]))
      stopifnot(abs(coef(sub_con)[[1]] - est[[sprintf("k%d", j)]]) < 1e-12)
      stopifnot(abs(SE(sub_con)[[1]] - se[[sprintf("k%d", j)]]) < 1e-12)
      sv <- sub$variables[weights(sub, "sampling") != 0, , drop = FALSE]
      n <- sum(rowSums(sv[, paste0("a_", comp_items), drop = FALSE]) > 0)
      psus <- tapply(sv$psu, sv$desk, function(p) length(unique(p)))
      thin <- sum(psus < 2)
      adequate <- n >= 30 && degf(sub) >= 5 && !(2 * thin > length(psus))
      diff <- est[[sprintf("d%d", j)]]
      s <- se[[sprintf("d%d", j)]]
      rows[[j]] <- data.frame(
        case = case, by = by, key = keys[j], estimate = est[[sprintf("k%d", j)]],
        overall = est[["overall"]], difference = diff, se = s, df = df, n = n,
        domain_df = degf(sub), adequate = adequate, p_value = 2 * pt(-abs(diff / s), df)
      )
    }
    rows <- do.call(rbind, rows)
    rows$p_holm_all <- p.adjust(rows$p_value, method = "holm")
    rows$p_holm <- NA
    rows$p_holm[rows$adequate] <- p.adjust(rows$p_value[rows$adequate], method = "holm")
    res[[length(res) + 1]] <- rows
  }
}
ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "contrasts.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d contrast rows; %s, survey %s\n", nrow(ref), R.version.string,
            as.character(packageVersion("survey"))))
