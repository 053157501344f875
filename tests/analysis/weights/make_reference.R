# R's survey package on the designs in the input JSON: the reference figures for
# tests/analysis/weights. Run through make_reference.py (see its docstring), not by hand:
#   Rscript make_reference.R cases.json out.json
# Each case: stratum, weight, group (-1 = no group) per respondent, and rows, each with a
# 0/1 answer y and a 0/1 valid flag. Design: svydesign(ids = ~1, strata = ~stratum,
# weights = ~weight), lonely strata "adjust". Per row and group: svymean and svyciprop
# (logit, beta) on subset(valid & group == g); across groups: svychisq F, Chisq, Wald on
# subset(valid & group >= 0). Raking cases: rake() weights to the given margins.
suppressPackageStartupMessages({library(survey); library(jsonlite)})
options(survey.lonely.psu = "adjust")
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyVector = FALSE)

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NA else unname(as.numeric(x))

# the group against every other group (respondents with no group left out)
versus <- function(des, gg) {
  grouped <- subset(des, valid == 1 & group >= 0)
  grouped <- update(grouped, inside = factor(group == gg, levels = c(TRUE, FALSE)))
  by <- svyby(~y, ~inside, grouped, svymean, covmat = TRUE)
  if (nrow(by) < 2) return(NULL)
  d <- svycontrast(by, c(1, -1))
  list(diff = num(coef(d)), se = num(SE(d)))
}

one_row <- function(des) {
  groups <- sort(unique(des$variables$group[des$variables$valid == 1 & des$variables$group >= 0]))
  est <- lapply(groups, function(gg) {
    sub <- subset(des, valid == 1 & group == gg)
    m <- svymean(~y, sub)
    lo <- suppressWarnings(tryCatch(attr(svyciprop(~y, sub, method = "logit"), "ci"), error = function(e) c(NA, NA)))
    be <- suppressWarnings(tryCatch(attr(svyciprop(~y, sub, method = "beta"), "ci"), error = function(e) c(NA, NA)))
    list(group = gg, estimate = num(coef(m)), se = num(SE(m)),
         logit = c(num(lo[1]), num(lo[2])), beta = c(num(be[1]), num(be[2])), degf = degf(sub),
         versus = versus(des, gg))
  })
  sub <- subset(des, valid == 1)
  m <- svymean(~y, sub)
  overall <- list(estimate = num(coef(m)), se = num(SE(m)))
  tested <- subset(des, valid == 1 & group >= 0)
  # factor levels nobody in the domain has would enter svytable as empty rows (NaN)
  tested$variables <- droplevels(tested$variables)
  tests <- list()
  if (length(unique(tested$variables$g)) >= 2 && length(unique(tested$variables$yy)) >= 2) {
    for (s in c("F", "Chisq", "Wald")) {
      r <- suppressWarnings(svychisq(~g + yy, tested, statistic = s))
      tests[[s]] <- list(statistic = num(r$statistic), parameter = unname(as.numeric(r$parameter)),
                         p = num(r$p.value))
    }
  }
  list(groups = est, overall = overall, tests = tests)
}

rake_case <- function(case) {
  df <- data.frame(role = unlist(case$role), trust = unlist(case$trust), base = unlist(case$base))
  des <- svydesign(ids = ~1, weights = ~base, data = df)
  pr <- data.frame(role = names(case$pop_role), Freq = unlist(case$pop_role))
  pt <- data.frame(trust = names(case$pop_trust), Freq = unlist(case$pop_trust))
  raked <- rake(des, list(~role, ~trust), list(pr, pt), control = list(maxit = 50, epsilon = 1))
  pc <- data.frame(role = unlist(case$cross_role), trust = unlist(case$cross_trust),
                   Freq = unlist(case$cross_count))
  post <- postStratify(des, ~role + trust, pc)
  trimmed <- trimWeights(raked, upper = case$cap)
  list(name = case$name, raked = unname(weights(raked)), post = unname(weights(post)),
       trimmed = unname(weights(trimmed)))
}

out <- lapply(cases, function(case) {
  if (!is.null(case$kind) && case$kind == "rake") return(rake_case(case))
  base <- data.frame(stratum = unlist(case$stratum), weight = unlist(case$weight),
                     group = unlist(case$group))
  rows <- lapply(case$rows, function(row) {
    df <- base
    df$y <- unlist(row$y)
    df$valid <- unlist(row$valid)
    df$g <- factor(df$group)
    df$yy <- factor(df$y)
    des <- svydesign(ids = ~1, strata = ~stratum, weights = ~weight, data = df)
    one_row(des)
  })
  list(name = case$name, rows = rows)
})
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null"), args[2])
