/*
 * selfvirt: the micro-engines
 *
 * The IXP2400 has 8 micro-engines of 8 hardware contexts; a context runs
 * until it waits for I/O, then yields to the next (no preemption).  Each
 * micro-engine here is a thread that runs its contexts round-robin.  Roles
 * as in the paper: one engine receives from the physical port, one
 * transmits to it (selfvirt_port.c), one runs the ingress pool
 * (selfvirt_ingress.c) and the rest run the egress pool
 * (selfvirt_egress.c), where every VIF is served by one context picked
 * round-robin when the VIF is created.  This file is the loop that
 * dispatches to those contexts, and waking and parking.
 *
 * The paper's contexts poll.  On a host with few cores a polling thread
 * steals the guest's CPU, so an engine polls for poll-us microseconds after
 * its last work and then sleeps; egress tells the driver through the VIF's
 * status flags (SELFVIRT_RQ_EGRESS_ASLEEP) that a doorbell is needed.
 *
 * Engines never take the BQL: interrupts and the net layer are reached
 * through bottom halves.  Management pauses them (parked, no DMA in flight)
 * before it changes what they work on.
 *
 * Waking a sleeping thread costs more than a frame's work on a host whose
 * cores run vCPUs.  A thread that holds the BQL and wakes an engine that
 * has slept at least inline-wake-us (an idle board: a doorbell's vCPU, the
 * netdev's main loop) runs that engine's turn itself, and the interrupt or
 * the netdev send that ends it without a bottom half: one frame crosses
 * an idle board with no thread hand-off, as with QEMU's other NICs.  An
 * engine that slept less is streaming; its thread takes the work, in
 * parallel with the vCPU.  The engine's run_lock makes one runner at a
 * time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "qapi/visitor.h"
#include "hw/net/net_rx_pkt.h"
#include "selfvirt.h"
#include "trace.h"

/* ---- waking: the primitive every part uses ---- */

/*
 * Wake engine @e: it runs its contexts again before it sleeps.  Any
 * thread; never runs the engine itself (x-engines-inline runs it when the
 * board's entry point returns, selfvirt_engines_run_inline).
 */
void selfvirt_engine_kick(SelfvirtEngine *e)
{
    /*
     * A full barrier each side (free on x86, where xchg is one): the
     * caller's work before kicked, kicked before asleep is read, as the
     * sleeper sets asleep before it reads kicked and clears kicked before
     * it looks for work: one of the two sees the other.  A running engine
     * (the common case under load, a kick per frame) costs no lock.
     */
    smp_mb__before_rmw();
    qatomic_xchg(&e->kicked, true);
    smp_mb__after_rmw();
    if (!qatomic_read(&e->asleep)) {
        return;
    }
    qemu_mutex_lock(&e->lock);
    if (e->asleep) {
        selfvirt_stat_inc(e->s, SELFVIRT_STAT_ENGINE_WAKEUPS);
        qemu_cond_signal(&e->cond);
    }
    qemu_mutex_unlock(&e->lock);
}

static bool selfvirt_engine_run_contexts(SelfvirtEngine *e, int64_t *wait_ns);

/*
 * With the BQL: run idle engine @e's turn on this thread.  False if it is
 * awake, or slept less than inline-wake-us (or is paused, or the property
 * is 0): kick it then.  At most two turns, SELFVIRT_INLINE_BUDGET frames
 * in all; work left after them, or a rate limiter's wait, goes to the
 * engine's thread.
 */
static bool selfvirt_engine_run_here(SelfvirtEngine *e)
{
    SelfvirtEngines *me = &e->s->me;
    int64_t wait_ns = INT64_MAX;
    bool more;

    assert(bql_locked());
    if (!me->inline_wake_us || !me->running || me->pause_req ||
        !qatomic_read(&e->asleep) ||
        get_clock() - qatomic_read(&e->asleep_since) <
        me->inline_wake_us * SCALE_US ||
        qemu_mutex_trylock(&e->run_lock)) {
        return false;
    }
    e->budget = SELFVIRT_INLINE_BUDGET;
    more = selfvirt_engine_run_contexts(e, &wait_ns) &&
           (!e->budget || selfvirt_engine_run_contexts(e, &wait_ns));
    if (!e->budget) {
        selfvirt_stat_inc(e->s, SELFVIRT_STAT_INLINE_SQUEEZED);
        more = true;
    }
    qemu_mutex_unlock(&e->run_lock);
    if (more || wait_ns != INT64_MAX) {
        selfvirt_engine_kick(e);
    }
    return true;
}

/*
 * May this thread end a turn itself (send to the netdev, raise the
 * interrupt) instead of through a bottom half?  Yes with inline-wake-us
 * and the BQL: it is a vCPU or the main loop running an idle engine's
 * turn (or a register write of management's, which may end its own).
 */
bool selfvirt_engines_finish_here(SelfvirtState *s)
{
    return s->me.inline_wake_us && s->me.running && bql_locked();
}

/* Have engine @e run: here if this thread holds the BQL and @e sleeps. */
void selfvirt_engine_wake(SelfvirtEngine *e)
{
    if (!bql_locked() || !selfvirt_engine_run_here(e)) {
        selfvirt_engine_kick(e);
    }
}

void selfvirt_engine_kick_role(SelfvirtState *s, enum SelfvirtEngineRole role)
{
    selfvirt_engine_wake(&s->me.engine[role]);
}

/*
 * Engine @e waits on @waiters (a bit per engine) for something another
 * engine makes; the caller looks once more after this, so that a wake in
 * between is not lost.
 */
void selfvirt_engine_wait_on(uint32_t *waiters, SelfvirtEngine *e)
{
    qatomic_or(waiters, 1u << (e - e->s->me.engine));
    smp_mb();     /* waiting, then look again: no lost wake-up */
}

/* Kick the engines waiting on @waiters, and clear it. */
void selfvirt_engines_wake_waiters(SelfvirtState *s, uint32_t *waiters)
{
    uint32_t w = qatomic_xchg(waiters, 0);

    while (w) {
        selfvirt_engine_kick(&s->me.engine[ctz32(w)]);
        w &= w - 1;
    }
}

static void selfvirt_engine_kick_all(SelfvirtState *s)
{
    for (unsigned i = 0; i < s->me.count; i++) {
        selfvirt_engine_kick(&s->me.engine[i]);
    }
}

SelfvirtEngine *selfvirt_egress_engine(SelfvirtState *s, SelfvirtVif *vif)
{
    unsigned n_egress = s->me.count - SELFVIRT_ME_EGRESS;

    return &s->me.engine[SELFVIRT_ME_EGRESS +
                         (vif->egress_ctx / s->me.contexts) % n_egress];
}

/* The egress context for a new VIF: round-robin over the pool. */
unsigned selfvirt_engines_next_egress_ctx(SelfvirtState *s)
{
    assert(selfvirt_engines_parked(s));
    return s->me.next_egress_ctx++ % s->me.egress_contexts;
}

/* ---- parking ---- */

/* Park here while management has the engines paused. */
static void selfvirt_engine_check_pause(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    if (!qatomic_read(&me->pause_req)) {
        return;
    }
    qemu_mutex_lock(&me->pause_lock);
    if (me->pause_req) {
        me->paused++;
        qemu_cond_broadcast(&me->pause_cond);
        while (me->pause_req && !me->stop) {
            qemu_cond_wait(&me->pause_cond, &me->pause_lock);
        }
        me->paused--;
    }
    qemu_mutex_unlock(&me->pause_lock);
}

/* With the BQL.  Nests; returns with every engine parked. */
void selfvirt_engines_pause(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    assert(bql_locked());
    if (!me->running) {
        return;
    }
    trace_selfvirt_engines_pause(qatomic_read(&me->pause_req));
    qemu_mutex_lock(&me->pause_lock);
    /* atomic: the engines read it without pause_lock, before they park */
    if (qatomic_fetch_inc(&me->pause_req) == 0) {
        qemu_mutex_unlock(&me->pause_lock);
        selfvirt_engine_kick_all(s);
        qemu_mutex_lock(&me->pause_lock);
        while (me->paused < me->count) {
            qemu_cond_wait(&me->pause_cond, &me->pause_lock);
        }
    }
    qemu_mutex_unlock(&me->pause_lock);
}

/*
 * For assertions: may management change what the engines work on?  Yes
 * with the BQL and every engine thread parked (or none running).
 */
bool selfvirt_engines_parked(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    if (!bql_locked()) {
        return false;
    }
    if (!me->running) {
        return !me->inline_running;
    }
    QEMU_LOCK_GUARD(&me->pause_lock);
    return me->pause_req && me->paused == me->count;
}

void selfvirt_engines_resume(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    assert(bql_locked());
    if (!me->running) {
        return;
    }
    trace_selfvirt_engines_resume(qatomic_read(&me->pause_req));
    qemu_mutex_lock(&me->pause_lock);
    assert(me->pause_req > 0);
    if (qatomic_fetch_dec(&me->pause_req) == 1) {
        qemu_cond_broadcast(&me->pause_cond);
    }
    qemu_mutex_unlock(&me->pause_lock);
    selfvirt_engine_kick_all(s);
}

/* ---- the engine loop ---- */

/* A role's operations, as it registered them (before the engines start). */
void selfvirt_engines_set_role(SelfvirtState *s, enum SelfvirtEngineRole role,
                               const SelfvirtRoleOps *ops)
{
    assert(role < SELFVIRT_ME_ROLES && !s->me.running);
    s->me.roles[role] = ops;
}

static const SelfvirtRoleOps *selfvirt_engine_ops(SelfvirtEngine *e)
{
    return e->s->me.roles[e->role];
}

static bool selfvirt_engine_run_contexts(SelfvirtEngine *e, int64_t *wait_ns)
{
    const SelfvirtRoleOps *ops = selfvirt_engine_ops(e);
    unsigned n = ops->per_context ? e->s->me.contexts : 1;
    bool work = false;

    for (unsigned c = 0; c < n; c++) {
        work |= ops->run(e, c, wait_ns);
    }
    return work;
}

/* The engine's own thread runs its contexts. */
static bool selfvirt_engine_run_locked(SelfvirtEngine *e, int64_t *wait_ns)
{
    bool work;

    qemu_mutex_lock(&e->run_lock);
    e->budget = SELFVIRT_TURN_UNBOUNDED;
    work = selfvirt_engine_run_contexts(e, wait_ns);
    qemu_mutex_unlock(&e->run_lock);
    return work;
}

/* Sleep until kicked, paused, stopped, or @wait_ns (the rate limiter's). */
static void selfvirt_engine_sleep(SelfvirtEngine *e, int64_t wait_ns)
{
    SelfvirtEngines *me = &e->s->me;

    trace_selfvirt_engine_sleep(e - me->engine, wait_ns);
    qemu_mutex_lock(&e->lock);
    qatomic_set(&e->asleep_since, get_clock());
    qatomic_set(&e->asleep, true);
    smp_mb();     /* asleep before kicked is read: see selfvirt_engine_kick */
    while (!qatomic_read(&e->kicked) && !qatomic_read(&me->stop) &&
           !qatomic_read(&me->pause_req)) {
        if (wait_ns != INT64_MAX) {
            qemu_cond_timedwait(&e->cond, &e->lock,
                                MAX(1, wait_ns / SCALE_MS));
            break;
        }
        qemu_cond_wait(&e->cond, &e->lock);
    }
    qatomic_set(&e->asleep, false);
    qemu_mutex_unlock(&e->lock);
    trace_selfvirt_engine_wake(e - me->engine);
}

static void *selfvirt_engine_thread(void *opaque)
{
    SelfvirtEngine *e = opaque;
    SelfvirtState *s = e->s;
    const SelfvirtRoleOps *ops = selfvirt_engine_ops(e);
    bool polls = ops->set_asleep != NULL;
    int64_t last_work = get_clock();

    rcu_register_thread();
    assert(!bql_locked());
    while (!qatomic_read(&s->me.stop)) {
        int64_t wait_ns = INT64_MAX;

        selfvirt_engine_check_pause(s);
        qatomic_set(&e->kicked, false);
        smp_mb();     /* cleared, then look: a kick from now on is seen */
        if (selfvirt_engine_run_locked(e, &wait_ns)) {
            last_work = get_clock();
            continue;
        }
        /* only egress polls (the paper's send-queue polling), and briefly */
        if (polls && wait_ns == INT64_MAX &&
            get_clock() - last_work < s->me.poll_us * SCALE_US) {
            sched_yield();
            continue;
        }
        /* going to sleep: announce it, then look once more */
        if (polls) {
            ops->set_asleep(e, true);
            smp_mb();     /* ASLEEP visible before tx_prod is read again */
            if (selfvirt_engine_run_locked(e, &wait_ns)) {
                ops->set_asleep(e, false);
                continue;
            }
        }
        selfvirt_engine_sleep(e, wait_ns);
        if (polls && !qatomic_read(&s->me.pause_req)) {
            ops->set_asleep(e, false);
        }
        last_work = get_clock();
    }
    rcu_unregister_thread();
    return NULL;
}

static bool selfvirt_engines_take_kicks(SelfvirtState *s)
{
    bool kicked = false;

    for (unsigned i = 0; i < s->me.count; i++) {
        kicked |= qatomic_xchg(&s->me.engine[i].kicked, false);
    }
    return kicked;
}

/*
 * x-engines-inline, for the fuzzer: no threads.  The board's entry points
 * (a register write, a frame from the netdev, the tx BH) call this when
 * they return: if they kicked an engine, every engine's contexts run on
 * the caller's thread, with the BQL, until none has work, so that an
 * input always does the same.  Bounded: no input can hang it.
 */
void selfvirt_engines_run_inline(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    if (!me->inline_mode || me->inline_running ||
        !selfvirt_engines_take_kicks(s)) {
        return;
    }
    assert(bql_locked());
    me->inline_running = true;
    for (unsigned round = 0; round < 1000; round++) {
        bool work = false;

        for (unsigned i = 0; i < me->count; i++) {
            int64_t wait_ns = INT64_MAX;

            me->engine[i].budget = SELFVIRT_TURN_UNBOUNDED;
            work |= selfvirt_engine_run_contexts(&me->engine[i], &wait_ns);
        }
        /* a context may have kicked one that already ran this round */
        if (!selfvirt_engines_take_kicks(s) && !work) {
            break;
        }
    }
    for (unsigned i = 0; i < me->count; i++) {
        const SelfvirtRoleOps *ops = selfvirt_engine_ops(&me->engine[i]);

        if (ops->set_asleep) {
            ops->set_asleep(&me->engine[i], true);  /* doorbells */
        }
    }
    selfvirt_engines_take_kicks(s);
    me->inline_running = false;
}

/* ---- the engines' life ---- */

/* Start the threads (none with x-engines-inline). */
void selfvirt_engines_init(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    me->stop = false;
    me->egress_contexts = (me->count - SELFVIRT_ME_EGRESS) * me->contexts;
    qemu_mutex_init(&me->pause_lock);
    qemu_cond_init(&me->pause_cond);
    for (unsigned i = 0; i < me->count; i++) {
        SelfvirtEngine *e = &me->engine[i];
        enum SelfvirtEngineRole role = MIN(i, SELFVIRT_ME_EGRESS);
        /* -name debug-threads=on: at most 15 characters, or Linux refuses */
        g_autofree char *name = g_strdup_printf("svme%u-%s", i,
                                                me->roles[role]->name);

        e->s = s;
        e->role = role;
        e->egress_base = i >= SELFVIRT_ME_EGRESS
                         ? (i - SELFVIRT_ME_EGRESS) * me->contexts : 0;
        e->kicked = false;
        e->ingress_pending = false;
        QSIMPLEQ_INIT(&e->outbox);
        e->outbox_vif = -1;
        e->outbox_frames = e->outbox_bytes = 0;
        e->switched_local = 0;
        e->asleep = false;
        qemu_mutex_init(&e->lock);
        qemu_mutex_init(&e->run_lock);
        qemu_cond_init(&e->cond);
        selfvirt_frame_pool_init(&e->frames);
        net_tx_pkt_init(&e->tx_pkt, 2);
        net_rx_pkt_init(&e->rx_pkt);
        if (!me->inline_mode) {
            qemu_thread_create(&e->thread, name, selfvirt_engine_thread, e,
                               QEMU_THREAD_JOINABLE);
        }
    }
    me->running = !me->inline_mode;
}

void selfvirt_engines_fini(SelfvirtState *s)
{
    SelfvirtEngines *me = &s->me;

    if (me->running) {
        qatomic_set(&me->stop, true);
        qemu_mutex_lock(&me->pause_lock);
        qemu_cond_broadcast(&me->pause_cond);
        qemu_mutex_unlock(&me->pause_lock);
        selfvirt_engine_kick_all(s);
    }
    for (unsigned i = 0; i < me->count; i++) {
        SelfvirtEngine *e = &me->engine[i];

        if (me->running) {
            qemu_thread_join(&e->thread);
        }
        net_tx_pkt_uninit(e->tx_pkt);
        net_rx_pkt_uninit(e->rx_pkt);
        qemu_cond_destroy(&e->cond);
        qemu_mutex_destroy(&e->run_lock);
        qemu_mutex_destroy(&e->lock);
    }
    me->running = false;
    qemu_cond_destroy(&me->pause_cond);
    qemu_mutex_destroy(&me->pause_lock);
}

/*
 * After selfvirt_engines_fini, once the queues are flushed and every frame
 * has gone back to the engine that allocated it.
 */
void selfvirt_engines_free_frames(SelfvirtState *s)
{
    for (unsigned i = 0; i < s->me.count; i++) {
        selfvirt_frame_pool_destroy(&s->me.engine[i].frames);
    }
}

/* Contexts are handed out from the first again; with the engines parked. */
void selfvirt_engines_reset(SelfvirtState *s)
{
    assert(selfvirt_engines_parked(s));
    s->me.next_egress_ctx = 0;
}

/*
 * x-engines-asleep, for tests: a bit per engine that waits for a kick.  An
 * egress engine sets EGRESS_ASLEEP before its last look at the send
 * queues; only this says that the look is over.
 */
static void selfvirt_get_engines_asleep(Object *obj, Visitor *v,
                                        const char *name, void *opaque,
                                        Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(obj);
    uint32_t asleep = 0;

    for (unsigned i = 0; s->me.running && i < s->me.count; i++) {
        SelfvirtEngine *e = &s->me.engine[i];

        if (qatomic_read(&e->asleep) && !qatomic_read(&e->kicked)) {
            asleep |= 1u << i;
        }
    }
    visit_type_uint32(v, name, &asleep, errp);
}

void selfvirt_engines_class_init(ObjectClass *klass)
{
    object_class_property_add(klass, "x-engines-asleep", "uint32",
                              selfvirt_get_engines_asleep, NULL, NULL, NULL);
    object_class_property_set_description(klass, "x-engines-asleep",
        "a bit per micro-engine waiting for work (read-only, for tests)");
}
