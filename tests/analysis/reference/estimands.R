# Shared by the reference scripts (source()d from the folder each runs in, after
# `d` (the responses) and `items` (the item codes, HL last) exist): the analysis
# variables a (answered), y (satisfied: answer >= 4) and z (score (answer - 1) / 4)
# of every item, the PSU (desk x day), the questionnaire "ref" (A = A1, A2; B = B1,
# B2, B3 with item weights 1, 1, 2, criterion weight 2; C = C1; overall item HL) and
# the estimands as svycontrast() expressions over svytotal() of those variables.

for (it in items) {
  x <- suppressWarnings(as.integer(d[[it]]))
  a <- !is.na(x)
  d[[paste0("a_", it)]] <- as.numeric(a)
  d[[paste0("y_", it)]] <- as.numeric(a & x >= 4)
  d[[paste0("z_", it)]] <- ifelse(a, (x - 1) / 4, 0)
}
d$psu <- paste(d$desk, d$day)
d$one <- 1

crit <- list(A = c(A1 = 1, A2 = 1), B = c(B1 = 1, B2 = 1, B3 = 2), C = c(C1 = 1))
crit_w <- c(A = 1, B = 2, C = 1)
ratio <- function(v, it) sprintf("%s_%s/a_%s", v, it, it)
crit_expr <- function(v, k) {
  w <- crit[[k]]
  sprintf("(%s)/%s", paste(sprintf("%s*%s", w, ratio(v, names(w))), collapse = " + "), sum(w))
}
exprs <- list()
for (v in c("y", "z")) {
  part <- if (v == "y") "share" else "score"
  exprs[[paste0("overall:", part)]] <- sprintf(
    "(%s)/%s",
    paste(sprintf("%s*%s", crit_w, sapply(names(crit), function(k) crit_expr(v, k))), collapse = " + "),
    sum(crit_w)
  )
  for (k in names(crit)) exprs[[sprintf("criterion:%s:%s", k, part)]] <- crit_expr(v, k)
  for (it in items[items != "HL"]) exprs[[sprintf("item:%s:%s", it, part)]] <- ratio(v, it)
  exprs[[paste0("overall_item:", part)]] <- ratio(v, "HL")
}
members <- function(name) {
  if (startsWith(name, "overall_item")) return("HL")
  if (startsWith(name, "overall")) return(items[items != "HL"])
  if (startsWith(name, "criterion")) return(names(crit[[strsplit(name, ":")[[1]][2]]]))
  strsplit(name, ":")[[1]][2]
}
tot_formula <- as.formula(paste("~", paste(c(
  paste0("y_", items), paste0("z_", items), paste0("a_", items)
), collapse = "+")))
