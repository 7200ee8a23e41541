# The benchmark's analysis in R's survey package: Rscript r_bench.R DATA.csv VOLUMES.csv
# Prints the elapsed seconds of the analysis (reading the CSV excluded) as JSON.
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
vol <- read.csv(args[2], stringsAsFactors = FALSE)
t0 <- proc.time()[["elapsed"]]
items <- grep("^C[0-9]+_[0-9]+$", names(d), value = TRUE)
all_items <- c(items, "HL")
for (it in all_items) {
  x <- d[[it]]
  x[x < 1] <- NA
  d[[paste0("a_", it)]] <- as.numeric(!is.na(x))
  d[[paste0("y_", it)]] <- as.numeric(!is.na(x) & x >= 4)
}
d$psu <- paste(d$desk, d$day)
d$one <- 1
des <- svydesign(ids = ~psu, strata = ~desk, nest = TRUE, weights = ~one, data = d)
des <- postStratify(des, ~desk, data.frame(desk = vol$desk, Freq = vol$volume))
crit <- split(items, sub("_[0-9]+$", "", items))
ratio <- function(it) sprintf("y_%s/a_%s", it, it)
crit_expr <- sapply(crit, function(its) sprintf("(%s)/%d", paste(ratio(its), collapse = "+"), length(its)))
exprs <- c(list(overall = sprintf("(%s)/%d", paste(crit_expr, collapse = "+"), length(crit))),
           as.list(crit_expr), setNames(as.list(ratio(all_items)), all_items))
exprs <- lapply(exprs, function(e) parse(text = e)[[1]])
f <- as.formula(paste("~", paste(c(paste0("y_", all_items), paste0("a_", all_items)), collapse = "+")))
con <- svycontrast(svytotal(f, des), exprs)
by_desk <- sapply(sort(unique(d$desk)), function(k) {
  sub <- des[d$desk == k, ]
  SE(svycontrast(svytotal(f, sub), exprs["overall"]))
})
elapsed <- proc.time()[["elapsed"]] - t0
cat(sprintf('{"analyze_s": %.3f, "overall": %.10f, "overall_se": %.10f}\n',
            elapsed, coef(con)[["overall"]], SE(con)[["overall"]]))
