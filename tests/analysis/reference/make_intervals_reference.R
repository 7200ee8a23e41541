# Reference values for tests/analysis/test_intervals_reference.py (issue 15):
# the Satterthwaite df of the intervals, the Korn-Graubard interval at p = 1 with
# the design's df, and a single-PSU domain whose SE is 0.
#
# Run from this folder after make_reference.R (it reads responses.csv and
# volumes.csv):   Rscript make_intervals_reference.R
# Made with R 4.2.2 Patched (2022-11-10 r83330) and survey 4.1.1 (Debian 12
# packages r-base-core, r-cran-survey); the script prints the versions it ran with.
# Writes intervals_reference.csv (one row per case) and edge_p1.csv, edge_single.csv
# (the two small data sets of the edge cases).
#
# R's survey has no Satterthwaite df, so it is computed here by hand from the
# stratum terms of the variance, and checked: the terms must add up to R's own
# variance (svytotal of the linearised variable u on the same design).
# The design effect of a composite (issue 15, part 6) is its variance over the
# variance of the same n under simple random sampling, S^2 / n, with S^2 the
# weighted mean square of the respondents' linearised composite z = W u over those
# the composite counts (answered one of its items): deff_composite below.

suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
alpha <- 0.05
out <- list()

d <- read.csv("responses.csv", colClasses = "character")
vol <- read.csv("volumes.csv")
items <- c("A1", "A2", "B1", "B2", "B3", "C1")
for (it in items) {
  x <- suppressWarnings(as.integer(d[[it]]))
  d[[paste0("a_", it)]] <- as.numeric(!is.na(x))
  d[[paste0("y_", it)]] <- as.numeric(!is.na(x) & x >= 4)
}
d$psu <- paste(d$desk, d$day)
d$one <- 1
des0 <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
des1 <- postStratify(des0, ~desk, data.frame(desk = vol$desk, Freq = vol$volume))

# Estimands as coefficients over item shares (the questionnaire of make_reference.R).
coefs <- list(
  # (A + 2 B + C) / 4 with A = (A1 + A2) / 2, B = (B1 + B2 + 2 B3) / 4, C = C1.
  "overall" = c(A1 = 1 / 8, A2 = 1 / 8, B1 = 1 / 8, B2 = 1 / 8, B3 = 1 / 4, C1 = 1 / 4),
  "criterion:B" = c(B1 = 1 / 4, B2 = 1 / 4, B3 = 1 / 2),
  "item:A1" = c(A1 = 1)
)

satterthwaite <- function(des, case, by, key, inside) {
  w <- weights(des)
  for (nm in names(coefs)) {
    cf <- coefs[[nm]]
    # Linearised variable of sum_v c_v R_v in the domain: u = sum c_v a_v (y_v - R_v) / A_v.
    u <- numeric(nrow(d))
    p <- 0
    for (it in names(cf)) {
      a <- d[[paste0("a_", it)]] * inside
      y <- d[[paste0("y_", it)]] * inside
      A <- sum(w * a)
      R <- sum(w * y) / A
      p <- p + cf[[it]] * R
      u <- u + cf[[it]] * (y - R * a) / A
    }
    des$variables$u <- u
    counted <- inside * (rowSums(d[, paste0("a_", names(cf)), drop = FALSE]) > 0)
    n_c <- sum(counted)
    srs <- sum(w * counted) * sum(w * u^2) / n_c  # = (W_G / W) (sum w z^2 / W) / n_c
    v_r <- as.numeric(vcov(svytotal(~u, des)))
    # Residualise within the post-strata (desk), as svyrecvar does for postStratify
    # (base weights 1: x_i - w_i * mean of u over the desk).
    r <- if (case == "poststratified") w * (u - ave(u, d$desk)) else w * u
    t_psu <- tapply(r, d$psu, sum)
    st <- tapply(d$desk, d$psu, function(s) s[1])
    groups <- split(t_psu, st[names(t_psu)])
    vh <- sapply(groups, function(t) {
      m <- length(t)
      if (m == 1) sum(t^2) else m / (m - 1) * sum((t - mean(t))^2)
    })
    mh <- pmax(sapply(groups, length) - 1, 1)
    stopifnot(abs(sum(vh) - v_r) < 1e-12 * max(v_r, 1e-300))
    sub <- des[inside == 1, ]
    df_design <- degf(sub)
    df_s <- min(sum(vh)^2 / sum(vh^2 / mh), df_design)
    se <- sqrt(v_r)
    half <- qt(1 - alpha / 2, max(df_s, 1)) * se / (p * (1 - p))
    out[[length(out) + 1]] <<- data.frame(
      test = "satterthwaite", case = case, by = by, key = key, estimand = paste0(nm, ":share"),
      estimate = p, se = se, df = df_design, df_interval = df_s, n = n_c,
      deff_composite = if (length(cf) > 1) v_r / srs else NA,
      ci_low = plogis(qlogis(p) - half), ci_high = plogis(qlogis(p) + half)
    )
  }
}
for (case in c("unweighted", "poststratified")) {
  des <- if (case == "unweighted") des0 else des1
  satterthwaite(des, case, "", "", rep(1, nrow(d)))
  for (key in c("S1", "S3")) satterthwaite(des, case, "sector", key, as.numeric(d$sector == key))
  satterthwaite(des, case, "unit", "U1", as.numeric(d$unit == "U1"))
}

# Edge case 1: a desk with 18 answers over 3 days, all 4-5 (p = 1, SE 0, df 2).
p1 <- data.frame(
  response_id = sprintf("E%02d", 1:18), unit = "U", desk = "Q1", sector = "S",
  day = rep(c("2025-03-03", "2025-03-04", "2025-03-05"), each = 6),
  Q = rep(c("4", "5", "5"), 6), stringsAsFactors = FALSE
)
write.csv(p1, "edge_p1.csv", row.names = FALSE, quote = FALSE)
p1$y <- as.numeric(as.integer(p1$Q) >= 4)
dp <- svydesign(ids = ~day, strata = ~desk, nest = TRUE, weights = ~1, data = p1)
m <- svymean(~y, dp)
n <- nrow(p1)
kish <- 1  # equal weights
# svyciprop(method = "beta")'s n_eff = p (1 - p) / var is 0 / 0 here; its df factor
# applied to n / Kish deff instead (Clopper-Pearson with x = n_eff).
neff <- n / kish * (qt(alpha / 2, n - 1) / qt(alpha / 2, degf(dp)))^2
out[[length(out) + 1]] <- data.frame(
  test = "p_one", case = "", by = "", key = "", estimand = "overall:share",
  estimate = coef(m)[[1]], se = SE(m)[[1]], df = degf(dp), df_interval = degf(dp),
  n = n, deff_composite = NA,
  ci_low = qbeta(alpha / 2, neff, 1), ci_high = 1
)
# Without the df factor (the old exact fallback): the [81.5%, 100%] of the issue.
stopifnot(abs(qbeta(alpha / 2, n, 1) - 0.815) < 5e-4)

# Edge case 2: a desk with a single day (one PSU) and mixed answers: SE 0 in R too.
s1 <- data.frame(
  response_id = sprintf("F%02d", 1:12), unit = "U", desk = "Q2", sector = "S",
  day = "2025-03-03", Q = rep(c("2", "4", "5"), 4), stringsAsFactors = FALSE
)
write.csv(s1, "edge_single.csv", row.names = FALSE, quote = FALSE)
s1$y <- as.numeric(as.integer(s1$Q) >= 4)
ds <- svydesign(ids = ~day, strata = ~desk, nest = TRUE, weights = ~1, data = s1)
ms <- svymean(~y, ds)
out[[length(out) + 1]] <- data.frame(
  test = "single_psu", case = "", by = "", key = "", estimand = "overall:share",
  estimate = coef(ms)[[1]], se = SE(ms)[[1]], df = degf(ds), df_interval = NA,
  n = nrow(s1), deff_composite = NA,
  ci_low = NA, ci_high = NA
)

ref <- do.call(rbind, out)
num <- sapply(ref, is.numeric)
ref[num] <- lapply(ref[num], function(x) format(x, digits = 17, scientific = FALSE, trim = TRUE))
write.csv(ref, "intervals_reference.csv", row.names = FALSE, quote = FALSE)
cat(sprintf("%d rows; %s, survey %s\n", nrow(ref), R.version.string,
            as.character(packageVersion("survey"))))
