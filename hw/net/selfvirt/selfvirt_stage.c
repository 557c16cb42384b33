/*
 * selfvirt: the micro-engines' stage times (the paper's Fig. 4)
 *
 * The paper times each stage of its micro-engine pipeline: egress (message
 * receive, packet transmit) and ingress (packet receive, channel demux,
 * message send).  With stage-timing=on each engine reads the host's
 * monotonic clock around the stages it runs and adds the time and the
 * frames to its own sums; qom-get of "stage-times" adds them over the
 * engines: { "egress-msg-recv": { "ns": N, "frames": F }, ... }.  Off (the
 * default), a stage costs one test of the flag.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "selfvirt.h"

#define SELFVIRT_STAGE_NAME(id, name)   name
static const char *const selfvirt_stage_names[] = {
    SELFVIRT_STAGES(SELFVIRT_STAGE_NAME)
};
#undef SELFVIRT_STAGE_NAME

/*
 * @frames went through @stage of engine @e since @start (a reading of
 * selfvirt_stage_clock()); returns now, the next stage's start, or 0 when
 * the board does not time its stages.
 */
int64_t selfvirt_stage_add(SelfvirtEngine *e, SelfvirtStage stage,
                           int64_t start, unsigned frames)
{
    int64_t now;

    if (!start) {
        return 0;
    }
    now = get_clock();
    if (frames) {
        stat64_add(&e->stage[stage].ns, now - start);
        stat64_add(&e->stage[stage].frames, frames);
    }
    return now;
}

/* Every engine's sums to zero: at realize and at a board reset. */
void selfvirt_stage_reset(SelfvirtState *s)
{
    for (unsigned i = 0; i < SELFVIRT_MAX_ENGINES; i++) {
        for (unsigned k = 0; k < SELFVIRT_STAGE_COUNT; k++) {
            stat64_init(&s->me.engine[i].stage[k].ns, 0);
            stat64_init(&s->me.engine[i].stage[k].frames, 0);
        }
    }
}

/* { "ns": @ns, "frames": @frames } as member @name */
static bool selfvirt_visit_stage(Visitor *v, const char *name, uint64_t ns,
                                 uint64_t frames, Error **errp)
{
    bool ok = false;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return false;
    }
    if (visit_type_uint64(v, "ns", &ns, errp) &&
        visit_type_uint64(v, "frames", &frames, errp)) {
        ok = visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
    return ok;
}

static void selfvirt_get_stage_times(Object *obj, Visitor *v,
                                     const char *name, void *opaque,
                                     Error **errp)
{
    SelfvirtState *s = SELFVIRT_NIC(obj);
    bool ok = true;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    for (unsigned k = 0; ok && k < SELFVIRT_STAGE_COUNT; k++) {
        uint64_t ns = 0, frames = 0;

        for (unsigned i = 0; i < s->me.count; i++) {
            ns += stat64_get(&s->me.engine[i].stage[k].ns);
            frames += stat64_get(&s->me.engine[i].stage[k].frames);
        }
        ok = selfvirt_visit_stage(v, selfvirt_stage_names[k], ns, frames,
                                  errp);
    }
    if (ok) {
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

void selfvirt_stage_class_init(ObjectClass *klass)
{
    object_class_property_add(klass, "stage-times", "SelfvirtStageTimes",
                              selfvirt_get_stage_times, NULL, NULL, NULL);
    object_class_property_set_description(klass, "stage-times",
        "time and frames per micro-engine stage, summed over the engines "
        "(read-only; counts with stage-timing=on)");
}
