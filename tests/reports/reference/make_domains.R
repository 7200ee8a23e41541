# Reference results from R's survey package for tests/reports/test_domain_reference.py:
# a sector (or sector-group) report as a domain of the full design, and the rule for
# desk-months with transactions but no counted response (issue 15, parts 1 and 2).
#
# Run from this folder:   Rscript make_domains.R
# Made with R version 4.2.2 Patched (2022-11-10 r83330) and survey 4.1.1 (Debian 12
# packages r-base-core, r-cran-survey); the script prints the versions it ran with.
#
# Writes (commit them together):
#   domains_responses.csv  simulated responses (seed 20261501): desks D1..D4 and D6 in
#                          units U1, U2; months 2025-03..2025-05; sectors S1, S2 (group
#                          G1) and S3 (group G2); D2 has no response in 2025-04
#   domains_volumes.csv    desk x month volumes (desk, month, volume, unit):
#                          D1 also 2025-06 (no responses: absorbed), D2 2025-04 (no
#                          responses: absorbed), D3 a zero for 2025-05 (collapsed),
#                          D4 none (mean weight), D5 volumes but no response at all (not
#                          represented), D6 only 2025-03, a month without responses, while
#                          its responses are in 2025-04 and 2025-05
#   domains_cells.csv      the post-strata the rule gives, with their population
#   domains_coverage.csv   covered, represented and total volume
#   domains_reference.csv  estimates, SEs, df and n: the whole sample, the domains
#                          sector == "S1" and sector_group == "G1", and by desk and by
#                          sector within each domain
#
# The rule (survey/reports/weighting.py `collapse` and `coverage`), implemented here on its own:
#   - a desk-month with responses and a positive volume: its own cell "desk|month";
#     if the desk has positive volumes in months without a response ("absorbed"),
#     each such cell's population is its volume x (1 + absorbed / the desk's volume
#     over its cells with a volume), i.e. the absorbed volume is spread pro rata;
#   - the desk's months with responses but no (or a zero) volume: one cell
#     "desk|missing", population = the desk's volume over its cells with a volume x
#     (missing months / those months); if the desk has no such cell but absorbed
#     months, population = absorbed + absorbed x (missing months / absorbed months);
#   - a desk with no volume at all: "desk|mean", its respondents x the mean weight of
#     the cells above;
#   - a desk with volumes but no response: outside the population (not represented).
# Coverage: covered = volume of desk-months with a counted response; represented =
# covered + absorbed; total = all positive volumes.
# Design: svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one) with psu =
# desk x day, postStratify(design, ~cell, cells), then a domain is subset(design, ...)
# AFTER postStratify: the weights and the strata/PSUs of the full design, the
# estimate over the domain's rows only.  Estimands as in make_collapsed.R.

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
set.seed(20261501)

desks <- c("D1", "D2", "D3", "D4", "D6")
unit_of <- c(D1 = "U1", D2 = "U1", D3 = "U2", D4 = "U2", D5 = "U2", D6 = "U1")
months <- c("2025-03", "2025-04", "2025-05")
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
group_of <- c(S1 = "G1", S2 = "G1", S3 = "G2")
rows <- list()
id <- 0
for (k in desks) {
  desk_eff <- rnorm(1, 0, 0.6)
  ms <- months
  if (k == "D2") ms <- c("2025-03", "2025-05")
  if (k == "D6") ms <- c("2025-04", "2025-05")
  for (m in ms) {
    for (dd in sample(3:26, sample(2:3, 1))) {
      day_eff <- rnorm(1, 0, 0.4)
      for (i in seq_len(sample(3:7, 1))) {
        id <- id + 1
        person <- rnorm(1, 0, 0.8)
        sec <- sample(c("S1", "S2", "S3"), 1, prob = c(0.45, 0.25, 0.3))
        sec_eff <- c(S1 = -0.5, S2 = 0, S3 = 0.4)[[sec]]
        vals <- sapply(items, function(it) {
          p <- plogis(1.1 + desk_eff + day_eff + person + sec_eff)
          x <- if (runif(1) < p) sample(4:5, 1, prob = c(0.6, 0.4)) else sample(1:3, 1)
          r <- runif(1)
          if (r < 0.07) "NA" else if (r < 0.11) "" else as.character(x)
        })
        rows[[id]] <- data.frame(
          response_id = sprintf("R%04d", id), unit = unit_of[[k]], desk = k,
          sector = sec, sector_group = group_of[[sec]], day = sprintf("%s-%02d", m, dd),
          t(vals), stringsAsFactors = FALSE, check.names = FALSE
        )
      }
    }
  }
}
d <- do.call(rbind, rows)
d <- d[order(d$desk, d$day, d$response_id), ]
write.csv(d, "domains_responses.csv", row.names = FALSE, quote = FALSE)

vol <- data.frame(
  desk = c("D1", "D1", "D1", "D1", "D2", "D2", "D2", "D3", "D3", "D3", "D5", "D5", "D6"),
  month = c("2025-03", "2025-04", "2025-05", "2025-06", "2025-03", "2025-04", "2025-05",
            "2025-03", "2025-04", "2025-05", "2025-03", "2025-04", "2025-03"),
  volume = c(310, 280, 295, 400, 120, 140, 150, 520, 610, 0, 230, 260, 90)
)
vol$unit <- unit_of[vol$desk]
write.csv(vol, "domains_volumes.csv", row.names = FALSE, quote = FALSE)

# --- the cells and the coverage ------------------------------------------------------
d$month <- substr(d$day, 1, 7)
d$cell <- NA_character_
pop <- c()
n_weighted <- 0
no_volume <- c()
for (k in desks) {
  ms <- sort(unique(d$month[d$desk == k]))
  v <- sapply(ms, function(m) sum(vol$volume[vol$desk == k & vol$month == m]))
  other <- vol[vol$desk == k & !(vol$month %in% ms) & vol$volume > 0, ]
  absorbed <- sum(other$volume)
  known <- ms[v > 0]
  missing <- ms[v <= 0]
  if (length(known) == 0 && absorbed == 0) {
    no_volume <- c(no_volume, k)
    next
  }
  n_weighted <- n_weighted + sum(d$desk == k)
  if (length(known) == 0) {
    cell <- paste0(k, "|missing")
    d$cell[d$desk == k] <- cell
    pop[[cell]] <- absorbed + absorbed * length(missing) / nrow(other)
    next
  }
  have <- sum(v[v > 0])
  for (j in which(v > 0)) {
    cell <- paste(k, ms[j], sep = "|")
    d$cell[d$desk == k & d$month == ms[j]] <- cell
    pop[[cell]] <- v[[j]] * (1 + absorbed / have)
  }
  if (length(missing) > 0) {
    cell <- paste0(k, "|missing")
    d$cell[d$desk == k & d$month %in% missing] <- cell
    pop[[cell]] <- have * length(missing) / length(known)
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
  "domains_cells.csv", row.names = FALSE, quote = FALSE
)
pos <- vol[vol$volume > 0, ]
seen <- paste(d$desk, d$month) 
covered <- sum(pos$volume[paste(pos$desk, pos$month) %in% seen])
absorbed_all <- sum(pos$volume[!(paste(pos$desk, pos$month) %in% seen) & pos$desk %in% d$desk])
write.csv(
  data.frame(covered = covered, represented = covered + absorbed_all, total = sum(pos$volume)),
  "domains_coverage.csv", row.names = FALSE, quote = FALSE
)

# --- estimates ----------------------------------------------------------------------
# Analysis variables (a, y, z per item), the estimands and their formulas.
source("../../analysis/reference/estimands.R")

estimate_all <- function(des, domain, by, key) {
  con <- svycontrast(svytotal(tot_formula, des), lapply(exprs, function(e) parse(text = e)[[1]]))
  vars <- des$variables[weights(des, "sampling") != 0, , drop = FALSE]
  n <- sapply(names(exprs), function(nm) {
    sum(rowSums(vars[, paste0("a_", members(nm)), drop = FALSE]) > 0)
  })
  data.frame(domain = domain, by = by, key = key, estimand = names(exprs),
             estimate = coef(con), se = SE(con), df = degf(des), n = n)
}

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
des <- postStratify(des0, ~cell, cells)
res <- list(estimate_all(des, "", "", ""))
domains <- list(
  "sector=S1" = des$variables$sector == "S1",
  "sector_group=G1" = des$variables$sector_group == "G1"
)
for (dn in names(domains)) {
  inside <- domains[[dn]]
  dom <- subset(des, inside)
  res[[length(res) + 1]] <- estimate_all(dom, dn, "", "")
  for (by in c("desk", "sector")) {
    for (key in sort(unique(d[[by]][inside]))) {
      sub <- subset(des, inside & des$variables[[by]] == key)
      res[[length(res) + 1]] <- estimate_all(sub, dn, by, key)
    }
  }
}
ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "domains_reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d responses, %d cells, %d reference rows; %s, survey %s\n", nrow(d),
            nrow(cells), nrow(ref), R.version.string, as.character(packageVersion("survey"))))
