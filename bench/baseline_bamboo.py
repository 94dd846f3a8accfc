#!/usr/bin/env python3
"""The Bamboo notebook's simulation cells, with the smallest fixes needed to
run on Python 3.11, a fixed seed, and a record of every random draw.

Fixes (and nothing else): `random.sample` draws from `sorted(...)` (a set is
not a sequence on 3.11); a burst larger than the cluster removes every
instance; a world size missing from the profile gets its iteration time by
the same rule as expost (linear in 1/world size through the nearest measured
sizes); at world size 0 no iteration runs (the notebook raised KeyError).

    baseline_bamboo.py DATA_DIR OUT_DIR [--seed N] [--minutes M] [--no-record]

DATA_DIR holds bamboo-simulation/ (trace and run-86 profile). Writes
OUT_DIR/params.json (the notebook's fitted inputs), OUT_DIR/draws.txt (one
draw per line: r X | n X | i N | s IDS) and OUT_DIR/trace.csv
(ws,t_us,event,id), and prints simulated seconds per wall second.
"""
import argparse, json, os, random, sys, tempfile, time
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

ap = argparse.ArgumentParser()
ap.add_argument("data"); ap.add_argument("out")
ap.add_argument("--seed", type=int, default=2021)
ap.add_argument("--minutes", type=float, default=None)
ap.add_argument("--no-record", action="store_true")
args = ap.parse_args()
BASE_DIR = os.path.join(args.data, "bamboo-simulation", "profiling-runs", "run-86")
TRACES = os.path.join(args.data, "bamboo-simulation", "traces", "trace--full-64-node-trace")
os.makedirs(args.out, exist_ok=True)

# ---- profile (cells 2-12)
performance_stats = {}
reconfig = pd.read_csv(os.path.join(BASE_DIR, 'reconfig.csv'), names=['ws', 'start', 'end', 'elapsed'])
reconfig = reconfig.drop([0])
performance_stats['reconfiguration'] = reconfig['elapsed'].mean()
loop_times = pd.read_csv(os.path.join(BASE_DIR, 'loop_times_0.csv'), names=['ws', 'step', 'loop start', 'loop end', 'train time', 'start chkpt thread', 'total loop time'])
ws_iter_times = {}
for ws in loop_times.ws.unique():
    ws_iter_times[ws] = loop_times[loop_times['ws'] == ws]['train time'].mean()
performance_stats['iter_times'] = ws_iter_times
performance_stats['checkpoint'] = pd.read_csv(os.path.join(BASE_DIR, 'async-checkpoint_0.csv'), names=['elapsed'])['elapsed'].mean()
performance_stats['load checkpoint'] = pd.read_csv(os.path.join(BASE_DIR, 'load_times_0.csv'), names=['ws', 'step', 'elapsed'])['elapsed'].mean()

# ---- trace statistics (cells 13-23)
def ts_to_dt(ts, format="%Y-%m-%dT%H:%M:%SZ"):
    return datetime.strptime(ts, format)
node_trace = pd.read_csv(os.path.join(TRACES, 'full-64-node-trace.csv'))
node_trace['dt'] = node_trace['timestamp'].apply(ts_to_dt)
terminate_trace = pd.read_csv(os.path.join(TRACES, 'full-64-terminate-trace.csv'))
additions = {'count': []}
for ind in range(len(node_trace) - 1):
    row, next_row = node_trace.iloc[ind], node_trace.iloc[ind + 1]
    if next_row['count'] > row['count']:
        additions['count'].append(next_row['count'] - row['count'])
additions_trace = pd.DataFrame(additions)
total_minutes = (node_trace.iloc[len(node_trace) - 1]['dt'] - node_trace.iloc[0]['dt']).total_seconds() / 60
chance_preempt_this_minute = float(len(terminate_trace)) / total_minutes
chance_add_this_minute = float(len(additions_trace)) / total_minutes
regular_adds = additions_trace[additions_trace['count'] <= 10]
regular_add_mean = regular_adds['count'].mean()
regular_add_std = np.sqrt(regular_adds['count'].var())
preempt_count_mean = terminate_trace['number'].mean()
preempt_count_std = np.sqrt(terminate_trace['number'].var())
if args.minutes is not None:
    total_minutes = args.minutes

# ---- simulation (cells 45-101)
def round_values(d):
    return {k: round_values(v) if isinstance(v, dict) else np.round(v) for k, v in d.items()}
performance_stats = round_values(performance_stats)
MEASURED = sorted((int(k), float(v)) for k, v in performance_stats['iter_times'].items())

def iter_time(ws):  # fix: world sizes missing from the profile (expost's rule)
    ws = int(ws)
    for k, v in MEASURED:
        if k == ws:
            return v
    nearest = min(MEASURED, key=lambda kv: abs(kv[0] - ws))
    if len(MEASURED) == 1:
        return nearest[1] * nearest[0] / ws
    above = sum(1 for k, _ in MEASURED if k < ws)
    if above == 0: i, j = 0, 1
    elif above == len(MEASURED): i, j = len(MEASURED) - 2, len(MEASURED) - 1
    else: i, j = above - 1, above
    (a0, a1), (b0, b1) = MEASURED[i], MEASURED[j]
    xa, xb, x = 1.0 / a0, 1.0 / b0, 1.0 / ws
    t = a1 + (b1 - a1) * (x - xa) / (xb - xa)
    return t if t > 0 else nearest[1] * nearest[0] / ws

record = [] if not args.no_record else None
rng = np.random.RandomState(args.seed)
pyrng = random.Random(args.seed)
def np_random():
    v = rng.random_sample()
    if record is not None: record.append(f"r {v!r}")
    return v
def np_normal(m, s):
    v = rng.normal(m, s)
    if record is not None: record.append(f"n {float(v)!r}")
    return v
def np_randint(lo, hi):
    v = rng.randint(lo, hi)
    if record is not None: record.append(f"i {int(v)}")
    return v
def sample(population, k):  # fix: sorted(), and never more than there are
    k = min(int(k), len(population))
    if k == 0:
        return []
    v = pyrng.sample(sorted(population), k)
    if record is not None: record.append("s " + " ".join(str(x) for x in v))
    return v

def run_simulation(preemption_chance_per_minute, preemption_distribution, addition_chance_per_minute, addition_distribution, log):
    start = datetime(2021, 9, 14, 17, 00)
    end = start + timedelta(minutes=total_minutes)
    active_instances, standy_instances, prepping_instances, all_instances = set(), set(), set(), set()
    prepping_timers = {}
    preemption_chance = preemption_chance_per_minute / 12
    addition_chance = addition_chance_per_minute / 12
    current_instances = 32
    pipeline_depth = 16
    id = 0
    for _ in range(current_instances):
        all_instances.add(id); active_instances.add(id); id += 1
    step = 0
    trace = {'ws': [current_instances], 'dt': [start], 'event': ['step'], 'event-id': [0]}
    reconfig_cnt = 0
    reconfig_end_time = None
    last_saved_iteration = 0
    checkpoint_running = False
    checkpoint_start = None
    checkpoint_step = 0
    inst_min = 0
    inst_max = 64
    curr_time = start
    f = log
    while curr_time < end:
        f.write(f'{curr_time.strftime("%Y-%m-%d %H:%M:%S")} Cluster Config this step:\n')
        f.write(f'######## {len(active_instances)} active instances: {active_instances}\n')
        f.write(f'######## {len(standy_instances)} standby instances: {standy_instances}\n')
        f.write(f'######## {len(prepping_instances)} prepping instances: {prepping_instances}\n')
        f.write(f'######## {len(all_instances)} total instances: {all_instances}\n')
        f.write('========================================================================\n')
        num_to_add = 0
        add_this_round = np_random() < addition_chance
        if add_this_round:
            big_or_regular = np_random()
            if big_or_regular < 0.05:
                num_to_add = np_randint(11, 32)
                if len(all_instances) + num_to_add >= inst_max:
                    num_to_add = inst_max - len(all_instances)
            else:
                num_to_add = np_normal(addition_distribution['mean'], addition_distribution['std'])
                num_to_add = np.abs(np.round(num_to_add))
                if num_to_add == 0:
                    num_to_add = 1
                elif len(all_instances) + num_to_add >= inst_max:
                    num_to_add = inst_max - len(all_instances)
        num_to_preempt = 0
        preempt_this_round = np_random() < preemption_chance
        if preempt_this_round and not len(all_instances) <= inst_min:
            num_to_preempt = np_normal(preemption_distribution['mean'], preemption_distribution['std'])
            num_to_preempt = np.abs(np.round(num_to_preempt))
            if num_to_preempt == 0:
                num_to_preempt = 1
        preempted_instances = sample(all_instances, int(num_to_preempt))
        if len(preempted_instances) > 0:
            f.write(f'Preempting {len(preempted_instances)} with ids {preempted_instances}\n')
        lost_active = False
        for inst_id in preempted_instances:
            if inst_id in active_instances:
                lost_active = True
                active_instances.remove(inst_id)
            elif inst_id in standy_instances:
                standy_instances.remove(inst_id)
            elif inst_id in prepping_instances:
                prepping_instances.remove(inst_id)
                del prepping_timers[inst_id]
            all_instances.remove(inst_id)
        done_prepping = [i for i in prepping_instances if (curr_time - prepping_timers[i]).total_seconds() >= 180]
        if len(done_prepping) > 0:
            f.write(f'Moving {len(done_prepping)} instances to standby with ids {done_prepping}\n')
        for inst_id in done_prepping:
            standy_instances.add(inst_id); prepping_instances.remove(inst_id); del prepping_timers[inst_id]
        if num_to_add > 0:
            f.write(f'Adding {num_to_add} new instances with sart id {id}\n')
        for _ in range(int(num_to_add)):
            all_instances.add(id); prepping_instances.add(id); prepping_timers[id] = curr_time; id += 1
        new_pipeline_avail = len(standy_instances) >= pipeline_depth
        last_event = {k: trace[k][-1] for k in trace}
        if checkpoint_running:
            checkpoint_end_time = checkpoint_start + timedelta(seconds=performance_stats['checkpoint'])
            if curr_time > checkpoint_end_time:
                f.write(f'Finished checkpoint {checkpoint_step}\n')
                last_saved_iteration = checkpoint_step
                checkpoint_running = False
        if last_event['event'] == 'step':
            if last_event['ws'] > 0:  # fix: no iteration at world size 0
                iter_end_time = last_event['dt'] + timedelta(seconds=iter_time(last_event['ws']))
                if curr_time > iter_end_time:
                    if not checkpoint_running:
                        checkpoint_start = iter_end_time
                        checkpoint_step = step
                        checkpoint_running = True
                    step += 1
                    trace['ws'].append(last_event['ws']); trace['dt'].append(iter_end_time)
                    trace['event'].append('step'); trace['event-id'].append(step)
        elif last_event['event'] == 'reconfig':
            if lost_active or new_pipeline_avail:
                reconfig_end_time += timedelta(seconds=performance_stats['reconfiguration'])
            if curr_time > reconfig_end_time:
                step = last_saved_iteration + 1
                trace['ws'].append(len(active_instances)); trace['dt'].append(reconfig_end_time)
                trace['event'].append('step'); trace['event-id'].append(step)
                reconfig_end_time = None
        if lost_active or new_pipeline_avail:
            trace['ws'].append(len(active_instances)); trace['dt'].append(curr_time)
            trace['event'].append('reconfig'); trace['event-id'].append(reconfig_cnt)
            reconfig_cnt += 1
            if reconfig_end_time == None:
                reconfig_end_time = curr_time + timedelta(seconds=performance_stats['reconfiguration'])
            checkpoint_running = False
            if lost_active and not new_pipeline_avail:
                diff = len(active_instances) % pipeline_depth
                if len(standy_instances) > pipeline_depth - diff:
                    for k in sample(standy_instances, pipeline_depth - diff):
                        active_instances.add(k); standy_instances.remove(k)
                else:
                    for k in sample(active_instances, diff):
                        standy_instances.add(k); active_instances.remove(k)
            elif not lost_active and new_pipeline_avail:
                n_to_move = (len(standy_instances) // pipeline_depth) * pipeline_depth
                for k in sample(standy_instances, n_to_move):
                    active_instances.add(k); standy_instances.remove(k)
            else:
                diff = len(active_instances) % pipeline_depth
                n_to_move = ((len(standy_instances) // pipeline_depth) * pipeline_depth) - diff
                for k in sample(standy_instances, n_to_move):
                    active_instances.add(k); standy_instances.remove(k)
                while len(standy_instances) >= pipeline_depth:
                    for k in sample(standy_instances, pipeline_depth):
                        active_instances.add(k); standy_instances.remove(k)
        curr_time += timedelta(seconds=5)
        f.write('========================================================================\n\n\n')
    return trace, start

params = {
    "preemption_chance_per_minute": chance_preempt_this_minute,
    "preempt_mean": float(preempt_count_mean), "preempt_std": float(preempt_count_std),
    "addition_chance_per_minute": chance_add_this_minute,
    "add_mean": float(regular_add_mean), "add_std": float(regular_add_std),
    "total_minutes": float(total_minutes), "initial_instances": 32, "pipeline_depth": 16,
    "inst_max": 64, "inst_min": 0,
}
with tempfile.TemporaryFile("w") as log:
    t0 = time.perf_counter()
    trace, start = run_simulation(chance_preempt_this_minute, {'mean': preempt_count_mean, 'std': preempt_count_std},
                                  chance_add_this_minute, {'mean': regular_add_mean, 'std': regular_add_std}, log)
    wall = time.perf_counter() - t0
with open(os.path.join(args.out, "params.json"), "w") as f:
    json.dump(params, f, indent=1)
if record is not None:
    with open(os.path.join(args.out, "draws.txt"), "w") as f:
        f.write("\n".join(record) + "\n")
with open(os.path.join(args.out, "trace.csv"), "w") as f:
    f.write("ws,t_us,event,id\n")
    for ws, dt, ev, i in zip(trace['ws'], trace['dt'], trace['event'], trace['event-id']):
        f.write(f"{int(ws)},{(dt - start) // timedelta(microseconds=1)},{ev},{int(i)}\n")
sim_s = total_minutes * 60
print(json.dumps({"simulated_s": sim_s, "wall_s": wall, "sim_s_per_wall_s": sim_s / wall, "events": len(trace['ws'])}))
