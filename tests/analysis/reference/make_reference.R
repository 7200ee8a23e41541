# Reference results from R's survey package for tests/analysis/test_reference.py.
#
# Run from this folder:   Rscript make_reference.R
# Writes responses.csv, volumes.csv, volumes_sector.csv (fixture data, fixed seed)
# and reference.csv (one row per case x breakdown x estimand).
#
# Questionnaire "ref" (built in tests/analysis/conftest.py as ref_questionnaire()):
#   A (weight 1): A1, A2          item weights 1, 1
#   B (weight 2): B1, B2, B3      item weights 1, 1, 2
#   C (weight 1): C1
#   overall item HL (reported alone)
# Estimands: item share y/a (top-two-box, answers >= 4, N/A and blanks out of the
# base) and score z/a with z = (x - 1) / 4; criteria = weighted means of items;
# overall = weighted mean of criteria; via svytotal + svycontrast (delta method).

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
set.seed(20250601)

desks <- c("D1", "D2", "D3", "D4", "D5")
ndays <- c(6, 5, 4, 3, 1)  # D5 has a single day: a lonely PSU stratum
unit_of <- c(D1 = "U1", D2 = "U1", D3 = "U1", D4 = "U2", D5 = "U2")
items <- c("A1", "A2", "B1", "B2", "B3", "C1", "HL")
rows <- list()
id <- 0
for (h in seq_along(desks)) {
  desk_eff <- rnorm(1, 0, 0.6)
  for (dd in seq_len(ndays[h])) {
    day_eff <- rnorm(1, 0, 0.4)
    m <- sample(6:14, 1)
    for (i in seq_len(m)) {
      id <- id + 1
      person <- rnorm(1, 0, 0.8)
      vals <- sapply(items, function(it) {
        p <- plogis(1.2 + desk_eff + day_eff + person)
        u <- runif(1)
        x <- if (u < p) sample(4:5, 1, prob = c(0.6, 0.4)) else sample(1:3, 1)
        r <- runif(1)
        if (r < 0.08) "NA" else if (r < 0.13) "" else as.character(x)
      })
      rows[[id]] <- data.frame(
        response_id = sprintf("R%04d", id), unit = unit_of[[desks[h]]], desk = desks[h],
        sector = sample(c("S1", "S2", "S3"), 1),
        day = format(as.Date("2025-03-01") + (dd - 1) * 7 + h, "%Y-%m-%d"),
        t(vals), stringsAsFactors = FALSE, check.names = FALSE
      )
    }
  }
}
d <- do.call(rbind, rows)
write.csv(d, "responses.csv", row.names = FALSE, quote = FALSE)
n_desk <- table(d$desk)
vol <- data.frame(desk = desks, volume = as.numeric(round(n_desk[desks] * c(3.1, 5.7, 2.2, 9.4, 4.0))))
write.csv(vol, "volumes.csv", row.names = FALSE, quote = FALSE)
# Sector margin with the same grand total (for the raking case).
sec_share <- c(S1 = 0.5, S2 = 0.3, S3 = 0.2)
vol_sec <- data.frame(sector = names(sec_share), volume = sum(vol$volume) * sec_share)
write.csv(vol_sec, "volumes_sector.csv", row.names = FALSE, quote = FALSE)

# Analysis variables: a (answered), y (satisfied), z (score in 0..1).
# Analysis variables (a, y, z per item), the estimands and their formulas.
source("estimands.R")

level <- 0.95
alpha <- 1 - level
estimate_all <- function(des, case, by, key) {
  tot <- svytotal(tot_formula, des)
  con <- svycontrast(tot, lapply(exprs, function(e) parse(text = e)[[1]]))
  est <- coef(con)
  se <- SE(con)
  df <- degf(des)
  vars <- des$variables[weights(des, "sampling") != 0, , drop = FALSE]
  out <- list()
  for (nm in names(exprs)) {
    p <- est[[nm]]
    s <- se[[nm]]
    n <- sum(rowSums(vars[, paste0("a_", members(nm)), drop = FALSE]) > 0)
    q <- qt(1 - alpha / 2, max(df, 1))
    half <- q * s / (p * (1 - p))
    lo <- plogis(qlogis(p) - half)
    hi <- plogis(qlogis(p) + half)
    neff <- p * (1 - p) / s^2 * (qt(alpha / 2, n - 1) / qt(alpha / 2, max(df, 1)))^2
    kg_lo <- qbeta(alpha / 2, neff * p, neff * (1 - p) + 1)
    kg_hi <- qbeta(1 - alpha / 2, neff * p + 1, neff * (1 - p))
    out[[nm]] <- data.frame(
      case = case, by = by, key = key, estimand = nm, estimate = p, se = s, df = df, n = n,
      ci_low = lo, ci_high = hi, kg_low = kg_lo, kg_high = kg_hi
    )
  }
  do.call(rbind, out)
}

# The logit interval above is R's own svyciprop(method = "logit"): check once.
chk <- svyciprop(~y_A1, svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d))
m <- svymean(~y_A1, svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d))
half <- qt(0.975, length(unique(d$psu)) - 5) * SE(m) / (coef(m) * (1 - coef(m)))
stopifnot(abs(attr(chk, "ci")[[1]] - plogis(qlogis(coef(m)) - half)) < 1e-10)

des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
pop_desk <- data.frame(desk = vol$desk, Freq = vol$volume)
des1 <- postStratify(des0, ~desk, pop_desk)
pop_sec <- data.frame(sector = vol_sec$sector, Freq = vol_sec$volume)
des2 <- rake(des0, list(~desk, ~sector), list(pop_desk, pop_sec),
             control = list(maxit = 200, epsilon = 1e-13))

res <- list()
for (case in c("unweighted", "poststratified", "raked")) {
  des <- switch(case, unweighted = des0, poststratified = des1, raked = des2)
  res[[length(res) + 1]] <- estimate_all(des, case, "", "")
  for (by in c("desk", "sector", "unit")) {
    for (key in sort(unique(d[[by]]))) {
      sub <- des[des$variables[[by]] == key, ]
      res[[length(res) + 1]] <- estimate_all(sub, case, by, key)
    }
  }
}
ref <- do.call(rbind, res)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d responses, %d reference rows; %s, survey %s\n", nrow(d), nrow(ref),
            R.version.string, as.character(packageVersion("survey"))))
