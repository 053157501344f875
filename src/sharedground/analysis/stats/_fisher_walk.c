/*
 * The stage-at-a-time network walk of fisher_stagewise.py (_PyStagewise), compiled.
 *
 * Why C: for tables of up to a few hundred answers the walk's steps are cheap and many,
 * and in Python each costs about a microsecond (NumPy's per-call cost, or the
 * interpreter's); R's fisher.test runs the same network in compiled code (FEXACT), so a
 * 3 x 3 table of 20 answers took 0.55 ms here against R's 0.09 ms. Issue #15 asks for
 * r x c tables up to 6 x 4 and 100 answers at least as fast as R.
 *
 * Same algorithm, same fixed point, same counting rule as _PyStagewise (see the module
 * docstring of fisher_stagewise.py): a node is the sorted row totals still to fill; the
 * pasts reaching a node are fixed-point log-weights (multiples of 2**-36), merged when
 * equal; a past whose every completion counts adds its whole mass at once, one whose best
 * completion does not count is dropped; the last free stage is never expanded (the pasts
 * that count form a prefix of the node's sorted pasts). The Python side prepares the
 * fixed-point tables and the threshold, so both forms compare exactly the same integers.
 *
 * Work is counted in the units of fisher_budget.py (about 40 ns each) and the walk stops
 * as soon as the limit would be passed.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXQ 16
#define SCALE 68719476736.0 /* 2**36, fisher_stagewise.FRACTION_BITS */
#define SLACK 4096          /* fisher_stagewise._SLACK */

/* Work is counted in ticks of about 20 ns, two to a unit of fisher_budget.py (~40 ns), on
 * what each step costs as measured (perf, on bench/bench_stats.py's r x c tables and on
 * random 5 x 5 to 6 x 5 tables of 200-300 answers, which the budget refuses): a filling of
 * a node costs about 60-90 ns (the child looked up among the stage's nodes, two binary
 * searches and an exponential, or at the last stage one of each), a past carried to a
 * child 20 ns where it merges with one already there, about 100 ns where it is new (a
 * slot in a table of millions of (node, past) pairs: a trip to memory, and later its
 * share of the sort), a past summed for its node's prefix a few ns. Counting each step as
 * one tick had a refusal take 2.5 times its budget's nominal time. */
#define FILL_UNITS 4
#define LAST_FILL_UNITS 3
#define PAST_UNITS 1
#define CARRY_UNITS 1
#define NEW_PAST_UNITS 4
#define NODE_UNITS 2
#define TICKS_PER_UNIT 2

typedef struct {
    int q;              /* rows of a node (the shorter side) */
    int nst;            /* stages (the longer side) */
    int64_t stages[64]; /* stage totals, in walk order */
    int64_t *fixed;     /* fixed-point log k!, k = 0..N+1 */
    double *lf;         /* log k! */
    int64_t n;
    int64_t thr;
    double constant;
    int64_t limit, used;
    int over;
    unsigned char *reach; /* n + 1 bytes for two_stage's subset sums */
} Walk;

static inline int charge(Walk *w, int64_t units) {
    if (w->used + units > w->limit) {
        w->over = 1;
        return 0;
    }
    w->used += units;
    return 1;
}

/* ---- nodes: a set of states with their bounds -------------------------------------- */

typedef struct {
    uint32_t tag;
    int32_t idx; /* -1: empty */
} NodeSlot;

typedef struct {
    int q;
    int32_t *st; /* n * q */
    int64_t *best, *worst;
    double *logt;
    int32_t n, cap;
    NodeSlot *slot; /* index and the top of the hash: most probes end without reading st */
    uint64_t mask;
} Nodes;

static uint64_t hash_state(const int32_t *s, int q) {
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < q; i++) {
        h ^= (uint64_t)(uint32_t)s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static int nodes_init(Nodes *ns, int q) {
    memset(ns, 0, sizeof(*ns));
    ns->q = q;
    ns->cap = 64;
    ns->st = malloc(sizeof(int32_t) * (size_t)ns->cap * (size_t)q);
    ns->best = malloc(sizeof(int64_t) * (size_t)ns->cap);
    ns->worst = malloc(sizeof(int64_t) * (size_t)ns->cap);
    ns->logt = malloc(sizeof(double) * (size_t)ns->cap);
    ns->mask = 127;
    ns->slot = malloc(sizeof(NodeSlot) * (ns->mask + 1));
    if (!ns->st || !ns->best || !ns->worst || !ns->logt || !ns->slot) return 0;
    memset(ns->slot, 0xff, sizeof(NodeSlot) * (ns->mask + 1));
    return 1;
}

static void nodes_free(Nodes *ns) {
    free(ns->st);
    free(ns->best);
    free(ns->worst);
    free(ns->logt);
    free(ns->slot);
    memset(ns, 0, sizeof(*ns));
}

static int nodes_grow(Nodes *ns) {
    int32_t cap = ns->cap * 2;
    int32_t *st = realloc(ns->st, sizeof(int32_t) * (size_t)cap * (size_t)ns->q);
    if (!st) return 0;
    ns->st = st;
    int64_t *b = realloc(ns->best, sizeof(int64_t) * (size_t)cap);
    if (!b) return 0;
    ns->best = b;
    int64_t *wo = realloc(ns->worst, sizeof(int64_t) * (size_t)cap);
    if (!wo) return 0;
    ns->worst = wo;
    double *lt = realloc(ns->logt, sizeof(double) * (size_t)cap);
    if (!lt) return 0;
    ns->logt = lt;
    ns->cap = cap;
    /* rehash into a table at most a quarter full */
    uint64_t size = (ns->mask + 1) * 2;
    while (size < (uint64_t)cap * 2) size *= 2;
    NodeSlot *slot = malloc(sizeof(NodeSlot) * size);
    if (!slot) return 0;
    memset(slot, 0xff, sizeof(NodeSlot) * size);
    for (int32_t i = 0; i < ns->n; i++) {
        uint64_t full = hash_state(ns->st + (size_t)i * ns->q, ns->q);
        uint64_t h = full & (size - 1);
        while (slot[h].idx >= 0) h = (h + 1) & (size - 1);
        slot[h] = (NodeSlot){(uint32_t)(full >> 32), i};
    }
    free(ns->slot);
    ns->slot = slot;
    ns->mask = size - 1;
    return 1;
}

/* ---- bounds on a node's future ------------------------------------------------------ */

static double spread_min(const Walk *w, int64_t amount, const int64_t *caps, int n) {
    /* Least sum log x_i! with sum x = amount, x <= caps (caps ascending). */
    const double *lf = w->lf;
    int64_t rem = amount;
    double out = 0.0;
    for (int idx = 0; idx < n; idx++) {
        int64_t left = n - idx, cap = caps[idx];
        if (cap * left <= rem) {
            out += lf[cap];
            rem -= cap;
            continue;
        }
        int64_t base = rem / left, extra = rem % left;
        return out + (double)extra * lf[base + 1] + (double)(left - extra) * lf[base];
    }
    return out;
}

static double spread_max(const Walk *w, int64_t amount, const int64_t *caps, int n) {
    /* Largest sum log x_i! under the same constraints: the largest caps first. */
    int64_t rem = amount;
    double out = 0.0;
    for (int i = n - 1; i >= 0 && rem > 0; i--) {
        int64_t take = caps[i] < rem ? caps[i] : rem;
        out += w->lf[take];
        rem -= take;
    }
    return out;
}

/* Returns the ticks it took (a log evaluation about 10 ns, a step of the vertex search 1). */
static int64_t two_stage(const Walk *w, const int32_t *state, int64_t a, int64_t b, int64_t *best,
                         int64_t *worst) {
    /* Exact (largest, least) future with two stages a, b left (_PyStagewise._two_stage). */
    const int64_t *fx = w->fixed;
    int q = w->q;
    int64_t s_total = a + b, x[MAXQ], need = a;
    int64_t start = a - q > 0 ? a - q : 0;
    for (int i = 0; i < q; i++) {
        int64_t v = (int64_t)state[i] * start / s_total - 1;
        x[i] = v > 0 ? v : 0;
        need -= x[i];
    }
    for (int64_t step = 0; step < need; step++) {
        int pick = 0;
        double cheapest = INFINITY;
        for (int i = 0; i < q; i++) {
            if (x[i] < state[i]) {
                double cost = log((double)(x[i] + 1)) - log((double)(state[i] - x[i]));
                if (cost < cheapest) {
                    pick = i;
                    cheapest = cost;
                }
            }
        }
        x[pick] += 1;
    }
    double up = INFINITY, down = -INFINITY;
    for (int i = 0; i < q; i++) {
        if (x[i] < state[i]) {
            double u = log((double)(x[i] + 1)) - log((double)(state[i] - x[i]));
            if (u < up) up = u;
        }
        if (x[i] > 0) {
            double d = log((double)x[i]) - log((double)(state[i] - x[i] + 1));
            if (d > down) down = d;
        }
    }
    int64_t head = fx[a] + fx[b], all_lf = 0, bst = head;
    for (int i = 0; i < q; i++) all_lf += fx[state[i]];
    if (down <= up + 1e-12) {
        for (int i = 0; i < q; i++) bst -= fx[x[i]] + fx[state[i] - x[i]];
    } else {
        bst = head - all_lf + SLACK; /* not reached: the proportional start is below optimum */
    }
    /* Least future: a vertex, every row but one (j) full or empty. */
    int64_t worst_sum = INT64_MIN, ticks = (need > 0 ? need : 0) * q / 2;
    /* The vertices one by one for a few rows (q * q * 2**(q-1) steps), by subset sums for
     * more (q * q * a steps: 12 rows of a stage of 100 take 14,400, not 295,000). */
    if (q <= 6) {
        ticks += ((int64_t)q * q << (q - 1)) / 16;
        for (int j = 0; j < q; j++) {
            int64_t sj = state[j];
            for (uint32_t mask = 0; mask < (1u << (q - 1)); mask++) {
                int64_t full = 0;
                for (int i = 0, o = 0; i < q; i++) {
                    if (i == j) continue;
                    if (mask >> o & 1u) full += state[i];
                    o++;
                }
                int64_t xj = a - full;
                if (xj >= 0 && xj <= sj) {
                    int64_t value = fx[xj] + fx[sj - xj] - fx[sj];
                    if (value > worst_sum) worst_sum = value;
                }
            }
        }
    } else {
        ticks += (int64_t)q * q * (a + 1) / 16;
        unsigned char *reach = w->reach;
        for (int j = 0; j < q; j++) {
            memset(reach, 0, (size_t)a + 1);
            reach[0] = 1;
            for (int i = 0; i < q; i++) {
                if (i == j) continue;
                for (int64_t s = a; s >= state[i]; s--)
                    if (reach[s - state[i]]) reach[s] = 1;
            }
            int64_t sj = state[j];
            for (int64_t full = 0; full <= a; full++) {
                int64_t xj = a - full;
                if (reach[full] && xj <= sj) {
                    int64_t value = fx[xj] + fx[sj - xj] - fx[sj];
                    if (value > worst_sum) worst_sum = value;
                }
            }
        }
    }
    *best = bst + SLACK;
    *worst = head - (all_lf + worst_sum) - SLACK;
    return ticks;
}

/* Returns the ticks it took beyond the relaxations' (see nodes_get). */
static int64_t bounds(const Walk *w, int k, const int32_t *state, int64_t *best, int64_t *worst,
                      double *logt) {
    const double *lf = w->lf;
    const int64_t *fx = w->fixed;
    int q = w->q, left = w->nst - k;
    const int64_t *stages = w->stages + k;
    int64_t sum = 0;
    double lsum = 0.0;
    for (int i = 0; i < q; i++) {
        sum += state[i];
        lsum += lf[state[i]];
    }
    *logt = lf[sum] - lsum;
    if (left == 1) {
        int64_t exact = fx[stages[0]];
        for (int i = 0; i < q; i++) exact -= fx[state[i]];
        *best = *worst = exact;
        return 0;
    }
    if (left == 2) return two_stage(w, state, stages[0], stages[1], best, worst);
    /* Relaxations to the stages alone and to the rows alone. */
    int64_t caps[64], rows[MAXQ];
    double head = 0.0;
    for (int i = 0; i < left; i++) {
        caps[i] = stages[i];
        head += lf[stages[i]];
    }
    for (int i = 1; i < left; i++) { /* insertion sort: a few stages */
        int64_t v = caps[i];
        int j = i - 1;
        while (j >= 0 && caps[j] > v) {
            caps[j + 1] = caps[j];
            j--;
        }
        caps[j + 1] = v;
    }
    for (int i = 0; i < q; i++) rows[i] = state[i];
    double by_stage_min = 0, by_stage_max = 0, by_row_min = 0, by_row_max = 0;
    for (int i = 0; i < left; i++) {
        by_stage_min += spread_min(w, stages[i], rows, q);
        by_stage_max += spread_max(w, stages[i], rows, q);
    }
    for (int i = 0; i < q; i++) {
        by_row_min += spread_min(w, rows[i], caps, left);
        by_row_max += spread_max(w, rows[i], caps, left);
    }
    double smin = by_stage_min > by_row_min ? by_stage_min : by_row_min;
    double smax = by_stage_max < by_row_max ? by_stage_max : by_row_max;
    int64_t b = (int64_t)ceil((head - smin) * SCALE) + SLACK;
    int64_t cap = (int64_t)ceil(*logt * SCALE) + SLACK;
    *best = b < cap ? b : cap;
    *worst = (int64_t)floor((head - smax) * SCALE) - SLACK;
    return 0;
}

/* Index of state in ns (added, with its bounds at stage k, if new); -1 without memory. */
static int32_t nodes_get(Nodes *ns, Walk *w, int k, const int32_t *state) {
    int q = ns->q;
    uint64_t full = hash_state(state, q);
    uint32_t tag = (uint32_t)(full >> 32);
    uint64_t h = full & ns->mask;
    while (ns->slot[h].idx >= 0) {
        int32_t i = ns->slot[h].idx;
        if (ns->slot[h].tag == tag && memcmp(ns->st + (size_t)i * q, state, sizeof(int32_t) * q) == 0)
            return i;
        h = (h + 1) & ns->mask;
    }
    if (ns->n == ns->cap || (uint64_t)ns->n * 2 >= ns->mask) {
        if (!nodes_grow(ns)) return -1;
        h = full & ns->mask;
        while (ns->slot[h].idx >= 0) h = (h + 1) & ns->mask;
    }
    int32_t i = ns->n++;
    memcpy(ns->st + (size_t)i * q, state, sizeof(int32_t) * q);
    ns->slot[h] = (NodeSlot){tag, i};
    int64_t ticks = bounds(w, k, state, ns->best + i, ns->worst + i, ns->logt + i);
    charge(w, (int64_t)NODE_UNITS * q * (w->nst - k) + ticks);
    return i;
}

/* ---- pasts carried to the next stage: (node, past) -> mass ------------------------- */

typedef struct {
    int32_t node;
    int64_t past;
    double mass;
} Rec;

/* Open addressing with the records in the slots (node -1: empty), so a lookup is one
 * trip to memory, not two (slot, then record): with tens of millions of pasts that trip is
 * most of the walk's time. */
typedef struct {
    Rec *slot;
    int64_t n;
    uint64_t mask;
} Pairs;

static int pairs_alloc(Pairs *p, uint64_t size) {
    p->slot = malloc(sizeof(Rec) * size);
    if (!p->slot) return 0;
    for (uint64_t i = 0; i < size; i++) p->slot[i].node = -1;
    p->mask = size - 1;
    return 1;
}

static int pairs_init(Pairs *p) {
    p->n = 0;
    return pairs_alloc(p, 512);
}

static void pairs_free(Pairs *p) {
    free(p->slot);
    memset(p, 0, sizeof(*p));
}

static inline uint64_t hash_pair(int32_t node, int64_t past) {
    uint64_t h = (uint64_t)past * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uint32_t)node * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 31);
}

/* 1: merged with a pair already there; 2: a new pair; 0: no memory. */
static int pairs_add(Pairs *p, int32_t node, int64_t past, double mass) {
    if ((uint64_t)p->n * 2 >= p->mask) {
        Rec *old = p->slot;
        uint64_t old_size = p->mask + 1;
        if (!pairs_alloc(p, old_size * 2)) {
            p->slot = old;
            return 0;
        }
        for (uint64_t i = 0; i < old_size; i++) {
            if (old[i].node < 0) continue;
            uint64_t g = hash_pair(old[i].node, old[i].past) & p->mask;
            while (p->slot[g].node >= 0) g = (g + 1) & p->mask;
            p->slot[g] = old[i];
        }
        free(old);
    }
    uint64_t h = hash_pair(node, past) & p->mask;
    while (p->slot[h].node >= 0) {
        Rec *r = p->slot + h;
        if (r->node == node && r->past == past) {
            r->mass += mass;
            return 1;
        }
        h = (h + 1) & p->mask;
    }
    p->slot[h] = (Rec){node, past, mass};
    p->n++;
    return 2;
}

/* The records moved to the front of the slots, in no order; n of them. */
static Rec *pairs_compact(Pairs *p) {
    int64_t j = 0;
    for (uint64_t i = 0; i <= p->mask; i++)
        if (p->slot[i].node >= 0) p->slot[j++] = p->slot[i];
    return p->slot;
}

static int rec_order(const void *a, const void *b) {
    const Rec *x = a, *y = b;
    if (x->node != y->node) return x->node < y->node ? -1 : 1;
    if (x->past != y->past) return x->past < y->past ? -1 : 1;
    return 0;
}

/* ---- one stage: every filling of every node ------------------------------------------ */

typedef struct {
    Walk *w;
    int k, final;
    int64_t fc, flast;
    const int32_t *state;
    int64_t rest[MAXQ + 1];
    int32_t parts[MAXQ];
    /* the node's pasts, ascending, and prefix sums of mass * exp(past - top) */
    const int64_t *keys;
    const double *mass;
    const double *prefix;
    int64_t nk, top;
    Nodes *children;
    Pairs *pairs;
    double total;
    int nomem;
} Stage;

static inline int64_t upper(const int64_t *keys, int64_t n, int64_t limit) {
    /* Number of keys <= limit (bisect_right). */
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = (lo + hi) >> 1;
        if (keys[mid] <= limit) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void leaf(Stage *s, double count) {
    Walk *w = s->w;
    const int64_t *fx = w->fixed;
    int q = w->q;
    if (!charge(w, s->final ? LAST_FILL_UNITS : FILL_UNITS)) return;
    if (s->final) {
        int64_t future = s->fc + s->flast;
        for (int i = 0; i < q; i++) future -= fx[s->parts[i]] + fx[s->state[i] - s->parts[i]];
        int64_t at = upper(s->keys, s->nk, w->thr - future);
        if (at) s->total += count * s->prefix[at] * exp((double)(s->top + future) / SCALE + w->constant);
        return;
    }
    int64_t weight = s->fc;
    int32_t child[MAXQ];
    for (int i = 0; i < q; i++) {
        weight -= fx[s->parts[i]];
        int32_t v = s->state[i] - s->parts[i];
        int j = i - 1;
        while (j >= 0 && child[j] > v) {
            child[j + 1] = child[j];
            j--;
        }
        child[j + 1] = v;
    }
    int32_t id = nodes_get(s->children, w, s->k + 1, child);
    if (id < 0) {
        s->nomem = 1;
        w->over = 1;
        return;
    }
    int64_t every = upper(s->keys, s->nk, w->thr - weight - s->children->best[id]);
    int64_t alive = upper(s->keys, s->nk, w->thr - weight - s->children->worst[id]);
    if (every)
        s->total += count * s->prefix[every] *
                    exp((double)(s->top + weight) / SCALE + s->children->logt[id] + w->constant);
    if (alive > every) {
        if (!charge(w, (int64_t)CARRY_UNITS * (alive - every))) return;
        for (int64_t i = every; i < alive; i++) {
            int added = pairs_add(s->pairs, id, s->keys[i] + weight, s->mass[i] * count);
            if (!added) {
                s->nomem = 1;
                w->over = 1;
                return;
            }
            if (added == 2 && !charge(w, NEW_PAST_UNITS - CARRY_UNITS)) return;
        }
    }
}

static void fill(Stage *s, int i, int64_t remaining, double count, int64_t run, int64_t same) {
    /* Fillings of the stage into the node's rows up to permutation (_py_fills). */
    int q = s->w->q;
    int64_t cap = s->state[i];
    int tied = i > 0 && cap == s->state[i - 1];
    int64_t high = cap < remaining ? cap : remaining;
    if (tied && s->parts[i - 1] < high) high = s->parts[i - 1];
    int64_t lo, hi;
    if (i == q - 1) {
        if (remaining > high) return;
        lo = hi = remaining;
    } else {
        lo = remaining - s->rest[i + 1];
        if (lo < 0) lo = 0;
        hi = high;
    }
    for (int64_t v = lo; v <= hi; v++) {
        s->parts[i] = (int32_t)v;
        double c = count;
        int64_t r = 1, sm = 1;
        if (tied) {
            /* A run's permutations, run! / prod(equal values!), are whole at each step. */
            r = run + 1;
            sm = v == s->parts[i - 1] ? same + 1 : 1;
            c = count * (double)r / (double)sm;
        }
        if (i == q - 1) leaf(s, c);
        else fill(s, i + 1, remaining - v, c, r, sm);
        if (s->w->over) return;
    }
}

/* ---- the walk -------------------------------------------------------------------------- */

/* Returns the p-value; sets w->over when the budget ran out (or memory: *nomem). */
static double run_walk(Walk *w, const int32_t *root, int *nomem) {
    int q = w->q, last = w->nst - 1;
    double total = 0.0;
    *nomem = 0;
    Nodes cur;
    if (!nodes_init(&cur, q)) {
        *nomem = 1;
        return 0.0;
    }
    int32_t rid = nodes_get(&cur, w, 0, root);
    if (rid < 0) {
        nodes_free(&cur);
        *nomem = 1;
        return 0.0;
    }
    if (cur.best[0] <= w->thr) { /* even the most probable table counts */
        nodes_free(&cur);
        return 1.0;
    }
    /* Frontier: pasts of node i are keys[off[i]..off[i+1]), ascending. */
    int64_t *keys = malloc(sizeof(int64_t));
    double *mass = malloc(sizeof(double));
    int64_t *off = malloc(sizeof(int64_t) * 2);
    double *prefix = NULL;
    int64_t prefix_cap = 0;
    if (!keys || !mass || !off) {
        *nomem = 1;
        goto done;
    }
    keys[0] = 0;
    mass[0] = 1.0;
    off[0] = 0;
    off[1] = 1;
    for (int k = 0; k < last; k++) {
        Stage s;
        memset(&s, 0, sizeof(s));
        s.w = w;
        s.k = k;
        s.final = k + 1 == last;
        s.fc = w->fixed[w->stages[k]];
        s.flast = w->fixed[w->stages[last]];
        Nodes next;
        Pairs pairs;
        if (!nodes_init(&next, q) || !pairs_init(&pairs)) {
            *nomem = 1;
            nodes_free(&next);
            goto done;
        }
        s.children = &next;
        s.pairs = &pairs;
        for (int32_t node = 0; node < cur.n && !w->over; node++) {
            int64_t a = off[node], b = off[node + 1], nk = b - a;
            if (nk == 0) continue;
            if (!charge(w, (int64_t)PAST_UNITS * nk)) break;
            if (nk + 1 > prefix_cap) {
                prefix_cap = (nk + 1) * 2;
                free(prefix);
                prefix = malloc(sizeof(double) * (size_t)prefix_cap);
                if (!prefix) {
                    *nomem = 1;
                    w->over = 1;
                    break;
                }
            }
            int64_t top = keys[b - 1];
            double acc = 0.0;
            prefix[0] = 0.0;
            for (int64_t i = 0; i < nk; i++) {
                acc += mass[a + i] * exp((double)(keys[a + i] - top) / SCALE);
                prefix[i + 1] = acc;
            }
            s.state = cur.st + (size_t)node * q;
            s.rest[q] = 0;
            for (int i = q - 1; i >= 0; i--) s.rest[i] = s.rest[i + 1] + s.state[i];
            s.keys = keys + a;
            s.mass = mass + a;
            s.prefix = prefix;
            s.nk = nk;
            s.top = top;
            fill(&s, 0, w->stages[k], 1.0, 1, 1);
            if (s.nomem) *nomem = 1;
        }
        total += s.total;
        if (w->over || pairs.n == 0) {
            nodes_free(&next);
            pairs_free(&pairs);
            break;
        }
        /* The next frontier: pasts sorted by (node, past). */
        if (!charge(w, (int64_t)PAST_UNITS * pairs.n)) {
            nodes_free(&next);
            pairs_free(&pairs);
            break;
        }
        Rec *rec = pairs_compact(&pairs);
        qsort(rec, (size_t)pairs.n, sizeof(Rec), rec_order);
        int64_t *nkeys = malloc(sizeof(int64_t) * (size_t)pairs.n);
        double *nmass = malloc(sizeof(double) * (size_t)pairs.n);
        int64_t *noff = calloc((size_t)next.n + 1, sizeof(int64_t));
        if (!nkeys || !nmass || !noff) {
            free(nkeys);
            free(nmass);
            free(noff);
            nodes_free(&next);
            pairs_free(&pairs);
            *nomem = 1;
            goto done;
        }
        for (int64_t i = 0; i < pairs.n; i++) {
            nkeys[i] = rec[i].past;
            nmass[i] = rec[i].mass;
            noff[rec[i].node + 1]++;
        }
        for (int32_t i = 0; i < next.n; i++) noff[i + 1] += noff[i];
        pairs_free(&pairs);
        free(keys);
        free(mass);
        free(off);
        keys = nkeys;
        mass = nmass;
        off = noff;
        nodes_free(&cur);
        cur = next;
    }
done:
    free(keys);
    free(mass);
    free(off);
    free(prefix);
    nodes_free(&cur);
    return total < 1.0 ? total : 1.0;
}

/* ---- Python entry -------------------------------------------------------------------- */

static int int64_list(PyObject *seq, int64_t *out, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        long long v = PyLong_AsLongLong(PySequence_Fast_GET_ITEM(seq, i));
        if (v == -1 && PyErr_Occurred()) return 0;
        out[i] = v;
    }
    return 1;
}

PyDoc_STRVAR(walk_doc,
             "walk(rows, stages, fixed, lf, threshold, constant, limit) -> (p, used, done)\n\n"
             "The stage-at-a-time walk of fisher_stagewise._PyStagewise.pvalue in C.\n"
             "rows: a node's row totals, ascending (at most 16); stages: the stage totals in\n"
             "walk order; fixed, lf: round(log k! * 2**36) and log k! for k = 0..N; threshold:\n"
             "the fixed-point log-weight a table may reach and count; constant: turns a\n"
             "log-weight into a log-probability; limit: work units allowed. Returns the\n"
             "p-value, the units used, and False (p meaningless) when the limit was reached.");

static PyObject *walk(PyObject *self, PyObject *args) {
    PyObject *rows_o, *stages_o, *fixed_o, *lf_o;
    long long thr, limit;
    double constant;
    (void)self;
    if (!PyArg_ParseTuple(args, "OOOOLdL", &rows_o, &stages_o, &fixed_o, &lf_o, &thr, &constant,
                          &limit))
        return NULL;
    PyObject *rows = PySequence_Fast(rows_o, "rows must be a sequence");
    PyObject *stages = PySequence_Fast(stages_o, "stages must be a sequence");
    PyObject *fixed = PySequence_Fast(fixed_o, "fixed must be a sequence");
    PyObject *lf = PySequence_Fast(lf_o, "lf must be a sequence");
    PyObject *result = NULL;
    Walk w;
    memset(&w, 0, sizeof(w));
    if (!rows || !stages || !fixed || !lf) goto out;
    Py_ssize_t q = PySequence_Fast_GET_SIZE(rows), nst = PySequence_Fast_GET_SIZE(stages);
    Py_ssize_t nf = PySequence_Fast_GET_SIZE(fixed);
    if (q < 2 || q > MAXQ || nst < 2 || nst > 64 || nf < 2 || PySequence_Fast_GET_SIZE(lf) != nf) {
        PyErr_SetString(PyExc_ValueError, "walk: 2-16 rows, 2-64 stages, fixed and lf alike");
        goto out;
    }
    int64_t root64[MAXQ];
    int32_t root[MAXQ];
    if (!int64_list(rows, root64, q) || !int64_list(stages, w.stages, nst)) goto out;
    w.q = (int)q;
    w.nst = (int)nst;
    w.n = nf - 1;
    int64_t sum_rows = 0, sum_stages = 0;
    for (Py_ssize_t i = 0; i < q; i++) {
        if (root64[i] < 1 || (i && root64[i] < root64[i - 1])) {
            PyErr_SetString(PyExc_ValueError, "walk: rows must be positive and ascending");
            goto out;
        }
        root[i] = (int32_t)root64[i];
        sum_rows += root64[i];
    }
    for (Py_ssize_t i = 0; i < nst; i++) {
        if (w.stages[i] < 1) {
            PyErr_SetString(PyExc_ValueError, "walk: stages must be positive");
            goto out;
        }
        sum_stages += w.stages[i];
    }
    if (sum_rows != sum_stages || sum_rows != w.n) {
        PyErr_SetString(PyExc_ValueError, "walk: rows, stages and tables must share one total");
        goto out;
    }
    /* One slot past N, so that spread_min may read log (base + 1)! when it adds nothing. */
    w.fixed = malloc(sizeof(int64_t) * (size_t)(nf + 1));
    w.lf = malloc(sizeof(double) * (size_t)(nf + 1));
    w.reach = malloc((size_t)nf + 1);
    if (!w.fixed || !w.lf || !w.reach) {
        PyErr_NoMemory();
        goto out;
    }
    if (!int64_list(fixed, w.fixed, nf)) goto out;
    for (Py_ssize_t i = 0; i < nf; i++) {
        w.lf[i] = PyFloat_AsDouble(PySequence_Fast_GET_ITEM(lf, i));
        if (w.lf[i] == -1.0 && PyErr_Occurred()) goto out;
    }
    w.fixed[nf] = w.fixed[nf - 1];
    w.lf[nf] = w.lf[nf - 1];
    w.thr = thr;
    w.constant = constant;
    w.limit = limit > INT64_MAX / TICKS_PER_UNIT ? INT64_MAX : limit * TICKS_PER_UNIT;
    int nomem = 0;
    double p;
    Py_BEGIN_ALLOW_THREADS p = run_walk(&w, root, &nomem);
    Py_END_ALLOW_THREADS if (nomem) {
        PyErr_NoMemory();
        goto out;
    }
    result = Py_BuildValue("(dLO)", p, (long long)((w.used + TICKS_PER_UNIT - 1) / TICKS_PER_UNIT), w.over ? Py_False : Py_True);
out:
    free(w.fixed);
    free(w.lf);
    free(w.reach);
    Py_XDECREF(rows);
    Py_XDECREF(stages);
    Py_XDECREF(fixed);
    Py_XDECREF(lf);
    return result;
}

static PyMethodDef methods[] = {
    {"walk", walk, METH_VARARGS, walk_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    "_fisher_walk",
    "The exact test's stage-at-a-time walk, compiled (see fisher_compiled.py).",
    -1,
    methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC PyInit__fisher_walk(void) { return PyModule_Create(&module); }
