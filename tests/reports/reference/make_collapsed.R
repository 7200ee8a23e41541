# Reference results from R's survey package for tests/reports/test_collapsed_reference.py:
# post-stratification over desk-month cells when some desk-months lack a volume.
#
# Run from this folder:   Rscript make_collapsed.R
# Made with R version 4.2.2 Patched (2022-11-10 r83330) and survey 4.1.1 (Debian 12
# packages r-base-core, r-cran-survey); the script prints the versions it ran with.
#
# Writes (commit them together):
#   collapsed_responses.csv  120-odd simulated responses (seed 20260301): 4 desks in 2
#                            units, months 2025-03..2025-05, every desk 2+ days a month
#   collapsed_volumes.csv    desk x month volumes: D2 has no row for 2025-04, D3 a zero
#                            for 2025-05, D4 no row at all, D1 a row for 2025-06 (no
#                            responses that month: absorbed by D1's other months)
#   collapsed_cells.csv      the post-strata the rule below gives, with their population
#   collapsed_reference.csv  estimates, SEs, df and n (whole sample, by desk, by unit)
#
# The rule (survey/reports/weighting.py `collapse`), implemented here on its own:
#   - a desk-month with responses and a positive volume: its own cell "desk|month",
#     its volume x (1 + the desk's volume of months without responses / its volume
#     over these cells): a month without responses is absorbed pro rata (issue 15;
#     make_domains.R covers the other cases of that rule);
#   - the desk's months with responses but no (or a zero) volume: one cell
#     "desk|missing", population = sum of the desk's known volumes x (missing months /
#     known months), i.e. each missing month at the desk's mean month;
#   - a desk with no volume at all: one cell "desk|mean", population = its respondents x
#     (sum of the populations above / their respondents), i.e. the mean weight.
# Design: svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one) with
# psu = desk x day, then postStratify(design, ~cell, cells); and the same with
# strata = ~cell (the reports' design, collapsed_reference_cell_strata.csv). Estimands as in
# tests/analysis/reference/make_reference.R (questionnaire "ref": A = A1, A2; B = B1,
# B2, B3 (item weights 1, 1, 2), weight 2; C = C1; overall item HL): svycontrast() of
# svytotal() of a (answered), y (answer >= 4) and z ((answer - 1) / 4).

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
set.seed(20260301)

desks <- c("D1", "D2", "D3", "D4")
unit_of <- c(D1 = "U1", D2 = "U1", D3 = "U2", D4 = "U2")
months <- c("2025-03", "2025-04", "2025-05")
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
rows <- list()
id <- 0
for (k in desks) {
  desk_eff <- rnorm(1, 0, 0.6)
  for (m in months) {
    for (dd in sample(3:26, sample(2:3, 1))) {
      day_eff <- rnorm(1, 0, 0.4)
      for (i in seq_len(sample(3:7, 1))) {
        id <- id + 1
        person <- rnorm(1, 0, 0.8)
        vals <- sapply(items, function(it) {
          p <- plogis(1.1 + desk_eff + day_eff + person)
          x <- if (runif(1) < p) sample(4:5, 1, prob = c(0.6, 0.4)) else sample(1:3, 1)
          r <- runif(1)
          if (r < 0.07) "NA" else if (r < 0.11) "" else as.character(x)
        })
        rows[[id]] <- data.frame(
          response_id = sprintf("R%04d", id), unit = unit_of[[k]], desk = k,
          sector = sample(c("S1", "S2"), 1), day = sprintf("%s-%02d", m, dd),
          t(vals), stringsAsFactors = FALSE, check.names = FALSE
        )
      }
    }
  }
}
d <- do.call(rbind, rows)
d <- d[order(d$desk, d$day, d$response_id), ]
write.csv(d, "collapsed_responses.csv", row.names = FALSE, quote = FALSE)

vol <- data.frame(
  desk = c("D1", "D1", "D1", "D1", "D2", "D2", "D3", "D3", "D3"),
  month = c("2025-03", "2025-04", "2025-05", "2025-06", "2025-03", "2025-05",
            "2025-03", "2025-04", "2025-05"),
  volume = c(310, 280, 295, 400, 120, 150, 520, 610, 0)
)
write.csv(vol, "collapsed_volumes.csv", row.names = FALSE, quote = FALSE)

# --- the collapsed cells ----------------------------------------------------------
d$month <- substr(d$day, 1, 7)
d$cell <- NA_character_
pop <- c()
n_weighted <- 0
no_volume <- c()
for (k in desks) {
  ms <- sort(unique(d$month[d$desk == k]))
  v <- sapply(ms, function(m) sum(vol$volume[vol$desk == k & vol$month == m]))
  known <- ms[v > 0]
  if (length(known) == 0) {
    no_volume <- c(no_volume, k)
    next
  }
  n_weighted <- n_weighted + sum(d$desk == k)
  absorbed <- sum(vol$volume[vol$desk == k & !(vol$month %in% ms) & vol$volume > 0])
  for (j in which(v > 0)) {
    cell <- paste(k, ms[j], sep = "|")
    d$cell[d$desk == k & d$month == ms[j]] <- cell
    pop[[cell]] <- v[[j]] * (1 + absorbed / sum(v[v > 0]))
  }
  missing <- ms[v <= 0]
  if (length(missing) > 0) {
    cell <- paste0(k, "|missing")
    d$cell[d$desk == k & d$month %in% missing] <- cell
    pop[[cell]] <- sum(v[v > 0]) * length(missing) / length(known)
  }
}
mean_weight <- sum(unlist(pop)) / n_weighted
for (k in no_volume) {
  cell <- paste0(k, "|mean")
  d$cell[d$desk == k] <- cell
  pop[[cell]] <- sum(d$desk == k) * mean_weight
}
cells <- data.frame(cell = names(pop), Freq = as.numeric(unlist(pop)))
write.csv(
  data.frame(cell = cells$cell, volume = format(cells$Freq, digits = 17, trim = TRUE)),
  "collapsed_cells.csv", row.names = FALSE, quote = FALSE
)

# --- estimates ----------------------------------------------------------------------
# Analysis variables (a, y, z per item), the estimands and their formulas.
source("../../analysis/reference/estimands.R")

estimate_all <- function(des, by, key) {
  con <- svycontrast(svytotal(tot_formula, des), lapply(exprs, function(e) parse(text = e)[[1]]))
  vars <- des$variables[weights(des, "sampling") != 0, , drop = FALSE]
  n <- sapply(names(exprs), function(nm) {
    sum(rowSums(vars[, paste0("a_", members(nm)), drop = FALSE]) > 0)
  })
  data.frame(by = by, key = key, estimand = names(exprs), estimate = coef(con),
             se = SE(con), df = degf(des), n = n)
}

write_reference <- function(des, file) {
  res <- list(estimate_all(des, "", ""))
  for (by in c("desk", "unit")) {
    for (key in sort(unique(d[[by]]))) {
      res[[length(res) + 1]] <- estimate_all(des[des$variables[[by]] == key, ], by, key)
    }
  }
  ref <- do.call(rbind, res)
  num <- sapply(ref, is.numeric)
  ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
  write.csv(ref, file, row.names = FALSE, quote = FALSE)
  nrow(ref)
}

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
n_ref <- write_reference(postStratify(des0, ~cell, cells), "collapsed_reference.csv")
# The reports' design (survey.reports.weighting.design_strata): every survey day lies
# in one post-stratum, so the post-strata are the strata.
des0 <- svydesign(ids = ~psu, strata = ~cell, nest = TRUE, weights = ~one, data = d)
invisible(write_reference(postStratify(des0, ~cell, cells), "collapsed_reference_cell_strata.csv"))
cat(sprintf("%d responses, %d cells, %d reference rows per design; %s, survey %s\n", nrow(d),
            nrow(cells), n_ref, R.version.string, as.character(packageVersion("survey"))))
