# Reference results for trimming (bounded raking), for tests/analysis/test_trim_reference.py.
#
# Run from this folder:   Rscript make_trim.R
# Writes trim_responses.csv, trim_volumes_desk.csv, trim_volumes_sector.csv (fixture
# data, fixed seed), trim_weights.csv (one row per factor x response) and
# trim_reference.csv (one row per case x factor x estimand).
#
# The case: 4 desks x 3 sectors, the sector mix of the sample far from the sector
# margin, so raking on desk + sector spreads the weights within each desk.  Plain
# trimming (cap at F x the current median, re-rake, repeat) fails here at F = 2 and 3.  Trimming
# `--trim F` means weights within [median / F, F x median], the median being that of
# the untrimmed raked weights.  In R: calibrate(calfun = raking, bounds = c(median / F,
# F x median), bounds.const = TRUE), i.e. bounds on the weights, turned into bounds on
# g = weight / base weight per respondent.
#
# Two details of survey 4.1.1 that the script works around (documented in README.md):
# - grake() starts at g = 1, and a respondent whose g sits on a bound has derivative 0;
#   with base weights 1 and a lower bound above 1 every derivative is 0 and Newton
#   never moves.  The base weights are therefore N / n (the same raked and bounded
#   weights: raking is invariant to a constant factor of the base weights).
# - cal.raking's derivative tests u (= log g) against bounds - 1 rather than against
#   log(bounds), so its Newton steps use the wrong derivative and it stops without
#   converging (the script records this).  `raking_exact` below is the same
#   calibration function (same Fm1, hence the same solution) with the derivative
#   exp(u) strictly inside the bounds.
#
# Questionnaire "ref" (tests/analysis/support.py, ref_questionnaire()), estimands via
# svytotal + svycontrast as in make_reference.R.

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
set.seed(20251201)

desks <- c("D1", "D2", "D3", "D4")
ndays <- c(4, 4, 5, 4)
# Respondents per desk (rows) and sector (columns): each desk's mix is far from the
# sector margin below, so the raked weights spread from median / 3 to 2.3 x the median.
counts <- matrix(c(19, 14, 24, 17, 4, 11, 2, 6, 10, 1, 24, 15), nrow = 4, byrow = TRUE,
                 dimnames = list(desks, c("S1", "S2", "S3")))
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
rows <- list()
id <- 0
for (h in seq_along(desks)) {
  desk_eff <- rnorm(1, 0, 0.6)
  day_eff <- rnorm(ndays[h], 0, 0.4)
  sectors <- sample(rep(colnames(counts), counts[h, ]))
  days <- rep(seq_len(ndays[h]), length.out = length(sectors))
  for (i in seq_along(sectors)) {
    id <- id + 1
    person <- rnorm(1, 0, 0.8)
    vals <- sapply(items, function(it) {
      p <- plogis(1.2 + desk_eff + day_eff[days[i]] + person)
      x <- if (runif(1) < p) sample(4:5, 1, prob = c(0.6, 0.4)) else sample(1:3, 1)
      r <- runif(1)
      if (r < 0.06) "NA" else if (r < 0.1) "" else as.character(x)
    })
    rows[[id]] <- data.frame(
      response_id = sprintf("T%04d", id), unit = "U1", desk = desks[h], sector = sectors[i],
      day = format(as.Date("2025-05-01") + (days[i] - 1) * 7 + h, "%Y-%m-%d"),
      t(vals), stringsAsFactors = FALSE, check.names = FALSE
    )
  }
}
d <- do.call(rbind, rows)
write.csv(d, "trim_responses.csv", row.names = FALSE, quote = FALSE)
n_desk <- table(d$desk)
vol <- data.frame(desk = desks, volume = as.numeric(round(n_desk[desks] * c(3.6, 2.0, 4.6, 3.9))))
write.csv(vol, "trim_volumes_desk.csv", row.names = FALSE, quote = FALSE)
sec_share <- c(S1 = 0.33, S2 = 0.38, S3 = 0.29)
vol_sec <- data.frame(sector = names(sec_share), volume = sum(vol$volume) * sec_share)
write.csv(vol_sec, "trim_volumes_sector.csv", row.names = FALSE, quote = FALSE)

for (it in items) {
  x <- suppressWarnings(as.integer(d[[it]]))
  a <- !is.na(x)
  d[[paste0("a_", it)]] <- as.numeric(a)
  d[[paste0("y_", it)]] <- as.numeric(a & x >= 4)
}
d$psu <- paste(d$desk, d$day)
d$base <- sum(vol$volume) / nrow(d)

crit <- list(A = c(A1 = 1, A2 = 1), B = c(B1 = 1, B2 = 1, B3 = 2), C = c(C1 = 1))
crit_w <- c(A = 1, B = 2, C = 1)
ratio <- function(it) sprintf("y_%s/a_%s", it, it)
crit_expr <- function(k) {
  w <- crit[[k]]
  sprintf("(%s)/%s", paste(sprintf("%s*%s", w, ratio(names(w))), collapse = " + "), sum(w))
}
exprs <- list(
  "overall:share" = sprintf("(%s)/%s", paste(sprintf("%s*%s", crit_w, sapply(names(crit), crit_expr)),
                                            collapse = " + "), sum(crit_w)),
  "criterion:B:share" = crit_expr("B"),
  "item:A1:share" = ratio("A1"),
  "overall_item:share" = ratio("HL")
)
tot_formula <- as.formula(paste("~", paste(c(paste0("y_", items), paste0("a_", items)), collapse = "+")))

estimates <- function(des, case, factor, status, by = "", key = "") {
  sub <- if (by == "") des else des[des$variables[[by]] == key, ]
  con <- svycontrast(svytotal(tot_formula, sub), lapply(exprs, function(e) parse(text = e)[[1]]))
  w <- weights(des)
  data.frame(case = case, factor = factor, status = status, by = by, key = key,
             estimand = names(exprs), estimate = coef(con), se = SE(con),
             weight_min = min(w), weight_max = max(w))
}

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~base, data = d)
pop <- c(`(Intercept)` = sum(vol$volume),
         setNames(vol$volume[-1], paste0("desk", vol$desk[-1])),
         setNames(vol_sec$volume[-1], paste0("sector", vol_sec$sector[-1])))
raking_exact <- make.calfun(
  Fm1 = function(u, bounds) pmin(pmax(exp(u), bounds$lower), bounds$upper) - 1,
  dF = function(u, bounds) ifelse(exp(u) > bounds$lower & exp(u) < bounds$upper, exp(u), 0),
  name = "raking"
)
raked <- calibrate(des0, ~desk + sector, pop, calfun = "raking", epsilon = 1e-14, maxit = 500)
med <- median(weights(raked))
res <- list(estimates(raked, "raked", 0, "converged"),
            estimates(raked, "raked", 0, "converged", "sector", "S3"))
wts <- list(data.frame(factor = 0, response_id = d$response_id, weight = weights(raked)))
for (f in c(2, 3, 4)) {
  bounds <- c(med / f, f * med)
  builtin <- tryCatch({
    calibrate(des0, ~desk + sector, pop, calfun = "raking", bounds = bounds,
              bounds.const = TRUE, epsilon = 1e-12, maxit = 500)
    "converged"
  }, error = function(e) "failed", warning = function(w) "failed")
  cat(sprintf("factor %g: bounds [%.6f, %.6f]; survey's cal.raking with bounds: %s\n",
              f, bounds[1], bounds[2], builtin))
  des <- calibrate(des0, ~desk + sector, pop, calfun = raking_exact, bounds = bounds,
                   bounds.const = TRUE, epsilon = 1e-14, maxit = 500)
  w <- weights(des)
  stopifnot(min(w) >= bounds[1] * (1 - 1e-12), max(w) <= bounds[2] * (1 + 1e-12))
  stopifnot(max(abs(tapply(w, d$desk, sum)[vol$desk] - vol$volume)) < 1e-8)
  stopifnot(max(abs(tapply(w, d$sector, sum)[vol_sec$sector] - vol_sec$volume)) < 1e-8)
  res[[length(res) + 1]] <- estimates(des, "trimmed", f, "converged")
  res[[length(res) + 1]] <- estimates(des, "trimmed", f, "converged", "sector", "S3")
  wts[[length(wts) + 1]] <- data.frame(factor = f, response_id = d$response_id, weight = w)
}

# One margin (post-stratification on desk), on make_reference.R's data (responses.csv,
# volumes.csv: desk weights 3.1, 5.7, 2.2, 9.4 and 4.0): every weight of a desk is the
# desk's volume / respondents, so bounds that exclude a desk's weight cannot be met.
p <- read.csv("responses.csv", colClasses = "character", na.strings = character(0))
pvol <- read.csv("volumes.csv")
for (it in items) {
  x <- suppressWarnings(as.integer(p[[it]]))
  p[[paste0("a_", it)]] <- as.numeric(!is.na(x))
  p[[paste0("y_", it)]] <- as.numeric(!is.na(x) & x >= 4)
}
p$psu <- paste(p$desk, p$day)
p$base <- sum(pvol$volume) / nrow(p)
pdes0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~base, data = p)
ps <- postStratify(pdes0, ~desk, data.frame(desk = pvol$desk, Freq = pvol$volume))
med_ps <- median(weights(ps))
for (f in c(2, 3, 4)) {
  status <- tryCatch({
    calibrate(pdes0, ~desk, c(`(Intercept)` = sum(pvol$volume),
                              setNames(pvol$volume[-1], paste0("desk", pvol$desk[-1]))),
              calfun = raking_exact, bounds = c(med_ps / f, f * med_ps), bounds.const = TRUE,
              epsilon = 1e-14, maxit = 200)
    "converged"
  }, error = function(e) "failed", warning = function(w) "failed")
  cat(sprintf("post-stratified, factor %g: bounds [%.6f, %.6f]: %s\n", f, med_ps / f,
              f * med_ps, status))
  res[[length(res) + 1]] <- estimates(ps, "poststratified", f, status)
}

ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "trim_reference.csv", row.names = FALSE, quote = FALSE)
wts <- do.call(rbind, wts)
wts$weight <- format(wts$weight, digits = 17, scientific = FALSE, trim = TRUE)
write.csv(wts, "trim_weights.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d responses, median raked weight %.6f; post-stratified weights per desk: %s\n",
            nrow(d), med, paste(round(vol$volume / n_desk[vol$desk], 3), collapse = ", ")))
cat(sprintf("%s, survey %s\n", R.version.string, as.character(packageVersion("survey"))))
