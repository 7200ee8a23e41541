# Reference results from R's survey package for tests/reports/test_representativeness.py:
# raking to the desk x month post-strata and to a unit x sector margin.
#
# Run from this folder:   Rscript make_raking.R
# The script prints the R and survey versions it ran with (see README.md).
#
# Reads collapsed_responses.csv and collapsed_cells.csv (as make_collapsed.R last wrote
# them: the responses and their desk x month post-strata) and writes
# (commit them together; the test reads only these, so a later change of the
# collapsing rule leaves this reference as it is):
#   raking_responses.csv       the same responses with their post-stratum `cell`, every
#                              fifth one of unit U2 without a sector ("_NONE")
#   raking_cells.csv           the post-strata (cell, volume)
#   raking_sector_volumes.csv  unit x sector x month volumes: U1 for S1, S2 and S3 (S3 has
#                              no responses), U2 for S1 and S2, and a 2025-06 row of U1
#                              (no responses that month: left out)
#   raking_margin.csv          the unit x sector margin the rule below gives
#   raking_reference.csv       estimates, SEs, df and n (whole sample, by desk, by unit)
#
# The rule (survey/reports/representativeness.py `sector_margin`), implemented here on its own:
#   - w0: each response's post-stratified weight (its cell's population / respondents);
#   - a unit's sector volumes count over the months the unit has responses in; a
#     response is "known" when its sector has a positive volume in its unit;
#   - the unit's desks fall into groups linked by the sectors their known responses
#     are in; a unit with a group of two sectors or more is "used";
#   - in a used unit, responses that are not known form "unit|_REST" with population
#     sum(w0) over them; each group's sectors share the group's sum(w0) over its known
#     responses in proportion to their volumes;
#   - any other unit is one category "unit|_REST" with population sum(w0) over it.
# Design: svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one), then
# rake(design, list(~cell, ~unit_sector), list(cells, margin)).  Estimands as in
# make_collapsed.R.

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")

d <- read.csv("collapsed_responses.csv", colClasses = "character", na.strings = character(0))
cells <- read.csv("collapsed_cells.csv", colClasses = c("character", "numeric"))
names(cells) <- c("cell", "Freq")
no_sector <- d$unit == "U2" & (as.integer(substr(d$response_id, 2, 5)) %% 5 == 0)
d$sector[no_sector] <- "_NONE"

svol <- data.frame(
  unit = c("U1", "U1", "U1", "U1", "U1", "U1", "U1", "U1", "U2", "U2", "U2", "U2"),
  sector = c("S1", "S2", "S1", "S2", "S1", "S2", "S3", "S1", "S1", "S2", "S1", "S2"),
  month = c("2025-03", "2025-03", "2025-04", "2025-04", "2025-05", "2025-05", "2025-05",
            "2025-06", "2025-03", "2025-03", "2025-05", "2025-05"),
  volume = c(120, 480, 100, 500, 130, 410, 60, 900, 700, 300, 650, 250)
)
write.csv(svol, "raking_sector_volumes.csv", row.names = FALSE, quote = FALSE)

# --- the cells as weighting.collapse gives them ------------------------------------------
d$month <- substr(d$day, 1, 7)
d$cell <- ifelse(paste(d$desk, d$month, sep = "|") %in% cells$cell,
                 paste(d$desk, d$month, sep = "|"), NA)
for (k in unique(d$desk[is.na(d$cell)])) {
  miss <- paste0(k, "|missing")
  d$cell[is.na(d$cell) & d$desk == k] <- if (miss %in% cells$cell) miss else paste0(k, "|mean")
}
stopifnot(all(d$cell %in% cells$cell))
write.csv(d[, setdiff(names(d), "month")], "raking_responses.csv", row.names = FALSE,
          quote = FALSE)
write.csv(
  data.frame(cell = cells$cell, volume = format(cells$Freq, digits = 17, trim = TRUE)),
  "raking_cells.csv", row.names = FALSE, quote = FALSE
)
n_cell <- table(d$cell)
w0 <- cells$Freq[match(d$cell, cells$cell)] / as.numeric(n_cell[d$cell])

# --- the unit x sector margin -----------------------------------------------------------
d$unit_sector <- NA_character_
margin <- c()
for (u in sort(unique(d$unit))) {
  rows <- d$unit == u
  ms <- unique(d$month[rows])
  v <- svol[svol$unit == u & svol$month %in% ms, ]
  share <- tapply(v$volume, v$sector, sum)
  share <- share[share > 0]
  known <- rows & d$sector %in% names(share)
  # Groups of desks linked by a sector: propagate the smallest desk name.
  grp <- setNames(unique(d$desk[known]), unique(d$desk[known]))
  repeat {
    old <- grp
    for (s in unique(d$sector[known])) {
      ks <- unique(d$desk[known & d$sector == s])
      grp[ks] <- min(grp[ks])
      grp[grp %in% old[ks]] <- min(grp[ks])
    }
    if (identical(old, grp)) break
  }
  g_of <- grp[d$desk]
  n_sec <- tapply(d$sector[known], g_of[known], function(x) length(unique(x)))
  used <- any(n_sec >= 2)
  if (!used) {
    d$unit_sector[rows] <- paste0(u, "|_REST")
    margin[[paste0(u, "|_REST")]] <- sum(w0[rows])
    next
  }
  d$unit_sector[known] <- paste(u, d$sector[known], sep = "|")
  d$unit_sector[rows & !known] <- paste0(u, "|_REST")
  rest <- sum(w0[rows & !known])
  if (rest > 0) margin[[paste0(u, "|_REST")]] <- rest
  for (g in sort(unique(g_of[known]))) {
    in_g <- known & g_of == g
    present <- sort(unique(d$sector[in_g]))
    for (s in present) {
      margin[[paste(u, s, sep = "|")]] <- sum(w0[in_g]) * share[[s]] / sum(share[present])
    }
  }
}
us <- data.frame(unit_sector = names(margin), Freq = as.numeric(unlist(margin)))
write.csv(
  data.frame(unit_sector = us$unit_sector, volume = format(us$Freq, digits = 17, trim = TRUE)),
  "raking_margin.csv", row.names = FALSE, quote = FALSE
)

# --- estimates ----------------------------------------------------------------------
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
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

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
des <- rake(des0, list(~cell, ~unit_sector), list(cells, us),
            control = list(maxit = 500, epsilon = 1e-13))
# The margin holds: the raked weights add up to it.
got <- tapply(weights(des), d$unit_sector, sum)
stopifnot(max(abs(got[us$unit_sector] - us$Freq) / us$Freq) < 1e-9)
res <- list(estimate_all(des, "", ""))
for (by in c("desk", "unit")) {
  for (key in sort(unique(d[[by]]))) {
    res[[length(res) + 1]] <- estimate_all(des[des$variables[[by]] == key, ], by, key)
  }
}
ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "raking_reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d responses, %d margin categories, %d reference rows; %s, survey %s\n", nrow(d),
            nrow(us), nrow(ref), R.version.string, as.character(packageVersion("survey"))))
