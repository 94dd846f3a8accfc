#!/usr/bin/env python3
"""Baseline of the failover benchmark: the original notebook's data path.

    python3 bench/baseline_failover.py ROOT [-o OUT_DIR]

This is the "Failover Analysis" notebook's own code (pandas DataFrames, glob,
json.load, lenient_read_json), run over a campaign folder laid out as
ROOT/<exp>/<exp>_<trial>/{event_log.json, iperf/client_N.json,
iperf/server_N.out}:

  * read_iperf_losses(directory): server text output -> loss per 0.1 s epoch
    (ceil rule), grouped sum of lost/total over the flows;
  * read_iperf_feature(directory, 'bits_per_second'): client JSON throughput
    over the usable window, summed across the flows;
  * read_iperf_experiment_losses / read_iperf_experiments: one table per
    campaign with experiment and trial columns;
  * per experiment, the concat + groupby('time') median/min/max band of
    plot_fill_experiment, for loss (x 100, as plot_loss_only) and throughput
    (x 1e-3, Mbit/s -> Gbit/s, as plot_failover).

The notebook's outputs are plots; here the tables are written as CSV instead
(OUT_DIR/loss_series.csv, throughput_series.csv, loss_bands.csv,
throughput_bands.csv), the fair counterpart of expost's tables.  With --plot
it also draws the notebook's two band figures with matplotlib (PDF, and PNG
at 300 dpi), the counterpart of expost's figures.

The functions are copied from the notebook unchanged except for the fixes
marked "FIX (bench)", the smallest needed for it to run correctly.  It is
deliberately not optimised.  The notebook's diagnostic prints ("Could not find
Accepted connection ...") are kept and go to stdout.  Timings of the import
and of the analysis are printed on stderr.
"""

import time as _time

_T0 = _time.perf_counter()

import argparse
import sys

# --- notebook cell [2], verbatim -------------------------------------------
import json
import os
import numpy as np
import pandas as pd
from glob import glob

DIV = 1e9

_T_IMPORTED = _time.perf_counter()


def lenient_read_json(file):
    '''Sometimes the json files output by iperf3 have one error message at the top.
    This function discards that error message and parses the rest of the file'''
    try:
        return json.load(open(file))
    except Exception as e:
        print("Malformed json {}: {}".format(file, e))
        lines = '\n'.join(open(file).readlines()[1:])
        return json.loads(lines)


# --- notebook cell [1403] --------------------------------------------------
from collections import namedtuple

Losses = namedtuple('losses', ['time', 'num', 'den', 'i'])


def read_iperf_losses(directory):
    # Read the Shremote log file to get the time at which the client connected
    try:
        event_log = json.load(open(os.path.join(directory, 'event_log.json')))
        client_entry= [e for e in event_log if e['name_'] == 'iperf_client'][0]
        iperf_time= client_entry['time_']
    except IOError:
        print("{} Event log not found".format(directory))
        return None

    # For each server output, get the time at which the client successfully connected
    server_files = glob(os.path.join(directory,'iperf','server_*.out'))
    starts = {}
    losses = []
    got_some = False
    for i, server_file in enumerate(server_files):
        server_losses = []
        started = False
        num = int(server_file.split('_')[-1][:-4])
        for line in open(server_file):
            if '0.00-' in line:
                started = True
            if started and line.strip().endswith('-'):
                break

            if started:
                server_loss_part = line.split()[-2]
                num = int(server_loss_part.split('/')[0])
                den = int(server_loss_part.split('/')[1])
                if den > 0:
                    t = (float(line.split()[0]))
                    server_losses.append(Losses(t, num, den, i))
        else:
            print("Could not find 0.00- in {}".format(server_file))

        newdf = pd.DataFrame(server_losses)
#         newdf['time'] -= drop_time
        losses.append(newdf)

    df = pd.concat(losses, ignore_index=True)
    df = df.assign(time = df.time - iperf_time)
    df = df.assign(epoch=(df.time * 10).apply(np.ceil) / 10)
    df = df.groupby('epoch')[['num', 'den']].sum().reset_index()
    df['value'] = df['num'] / df['den']

# #     df = df.assign(epoch = df.epoch)
#     df = df.groupby('epoch')['value'].median().reset_index()
    return df.rename(columns=dict(epoch='time'))


def read_iperf_feature(directory, feature='bits_per_second'):
    # Read the Shremote log file to get the time at which the client connected
    try:
        event_log = json.load(open(os.path.join(directory, 'event_log.json')))
        client_entry= [e for e in event_log if e['name_'] == 'iperf_client'][0]
        # NOTE (bench): kept as in the notebook.  'time' is not a typo for
        # 'time_' here: in the Shremote event log the iperf_client entry
        # carries its config, and 'time' is the iperf3 -t duration (30 s in
        # the seed), which is what usable_time below needs.  Reading 'time_'
        # (the launch epoch, as read_iperf_losses does) would make the usable
        # window ~1.8e9 s long, i.e. no upper bound at all.
        iperf_time= client_entry['time']
    except IOError:
        print("{} Event log not found".format(directory))
        return None

    # For each server output, get the time at which the client successfully connected
    server_files = glob(os.path.join(directory,'iperf','server_*.out'))
    starts = {}
    if feature == 'loss':
        losses = {}
    for server_file in server_files:
        server_losses = []
        started = False
        num = int(server_file.split('_')[-1][:-4])
        for line in open(server_file):
            # FIX (bench): the notebook tested only `'0.00-' in line`, so
            # starts[num] was overwritten by every later line holding
            # '0.00-' (10.00-10.10, 20.00-20.10, and last the end-of-test
            # summary line 0.00-30.00); keep the first interval line only.
            if not started and '0.00-' in line:
                started = True
                starts[num] = (float(line.split()[0]))


            if feature == 'loss' and started:
                server_loss_part = line.split()[-2]
                num = int(server_loss_part.split('/')[0])
                den = int(server_loss_part.split('/')[1])
                pct = num / den

                # FIX (bench): `lime` -> `line` (NameError).  This branch is
                # not run by the benchmark (feature='bits_per_second').
                t = line.split()[3].split('-')[0]
                server_losses.append(Losses(t, num))

        else:
            print("Could not find Accepted connection in {}".format(server_file))

    # The amount of usable time in the experiments is that for which
    # all of the clients were running simultaneously
    min_start = min(starts.values())
    max_start = max(starts.values())
    usable_time = iperf_time - (max_start - min_start)

    client_base = os.path.join(directory, 'iperf', 'client_%d.json')

    per_client_bps = []

    # Read each client file and extract the throughputs during the usable interval
    for i, start in starts.items():
        offset = max_start - start
        if offset > 0:
            print("Offset of file %d is %f" % (i, offset))
        client_bps = []
        client_file = client_base % i
        client = lenient_read_json(client_file)
        for interval in client['intervals']:
            interval = interval['streams'][0]
            if interval['end'] >= offset and interval['end'] < (usable_time + offset):
                client_bps.append(interval[feature])

        if len(client_bps) > 0:
            per_client_bps.append(client_bps)

    # Lengths might differ by 1 due to rounding errors.
    # Take the smallest timeseries and truncate all to that length
    minlen = min([len(b) for b in per_client_bps])
    per_client_bps = [bps[:minlen] for bps in per_client_bps]

    # Sum the results
    all_bps = np.array(per_client_bps)
    if feature == 'rtt':
        summed_bps = all_bps.mean(axis=0)
    else:
        summed_bps = all_bps.sum(axis=0)
    timestamps = np.arange(0, len(summed_bps) / 10, .1)
    return pd.DataFrame({'time': timestamps, 'value': summed_bps})


# --- notebook cell [972], verbatim -----------------------------------------
def read_iperf_experiments(base_dir, experiments, labels, feature='bits_per_second'):
    data = []
    for exp in experiments:
        for label in labels:
            df = read_iperf_feature(os.path.join(base_dir, exp, '%s_%s' % (exp, label)), feature)
            df.value /= 1e6
            data.append(df.assign(experiment=exp, trial=label))
    return pd.concat(data, ignore_index=True)

def read_iperf_experiment_losses(base_dir, experiments, labels):
    data = []
    for exp in experiments:
        for label in labels:
            df = read_iperf_losses(os.path.join(base_dir, exp, '%s_%s' % (exp, label)))
            data.append(df.assign(experiment=exp, trial=label))
    return pd.concat(data, ignore_index=True)


# --- notebook cell [1394], plot_fill_experiment without the drawing --------
def fill_experiment(df, roll=None, mult=1e-3):
    '''plot_fill_experiment's computation: returns the band it would draw
    (time, median, min, max) instead of calling fill_between/plot.'''
    df = df.assign(value = df.value * mult)
    if roll:
        df = df.rolling(int(roll * 10), on='time')[['time', 'value']].mean()
    grouped = df.groupby('time')[['value']]
    gmin = grouped.min()
    gmax = grouped.max()
    gmean = grouped.median().reset_index()
    return pd.DataFrame({'time': gmean.time.values,
                         'median': gmean.value.values,
                         'min': gmin.value.values,
                         'max': gmax.value.values})


def plot_bands(failover_losses, failover_tput, exps, out_dir):
    '''The notebook's plot cells: plot_fill_experiment's fill_between + plot per
    experiment, then savefig, for loss (as plot_loss_only) and throughput.'''
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    for name, data, ylabel, scale, mult in [
            ('loss', failover_losses, 'Pkt Loss (%)', 100, 1),
            ('throughput', failover_tput, 'Throughput\n(Gbps)', 1, 1e-3)]:
        plt.figure(figsize=(3.25, 1.2))
        handles = []
        for col, ls, (exp, _) in zip(['r', 'b', 'g', 'orange'] * 8, [':', '-', '--', 'dashdot'] * 8, exps):
            df = data[data.experiment == exp]
            df = df.assign(value=df.value * scale * mult)
            grouped = df.groupby('time')[['value']]
            gmin = grouped.min()
            gmax = grouped.max()
            gmean = grouped.median().reset_index()
            plt.fill_between(gmean.time, gmin.value, gmax.value, alpha=.2, color=col)
            handles.extend(plt.plot(gmean.time, gmean.value, '.-', color=col, alpha=1, linewidth=1, ls=ls))
        plt.ylabel(ylabel)
        plt.xlabel("Time (s)")
        plt.legend(handles, [exp for exp, _ in exps], loc='upper right', fancybox=True, framealpha=1)
        plt.tight_layout()
        plt.savefig(os.path.join(out_dir, name + '.pdf'))
        plt.savefig(os.path.join(out_dir, name + '.png'), dpi=300)
        plt.close()


# --- driver (replaces the notebook's hard-coded folders and plot cells) ----
def experiments_and_labels(root):
    '''The experiments under ROOT (folders <exp>) and, per experiment, its
    trial labels (folders <exp>/<exp>_<label>), sorted.'''
    out = []
    for exp_dir in sorted(glob(os.path.join(root, '*', ''))):
        exp = os.path.basename(os.path.dirname(exp_dir))
        labels = []
        for run_dir in glob(os.path.join(root, exp, '%s_*' % exp)):
            if os.path.isfile(os.path.join(run_dir, 'event_log.json')):
                label = os.path.basename(run_dir)[len(exp) + 1:]
                labels.append(int(label) if label.isdigit() else label)
        if labels:
            out.append((exp, sorted(labels, key=lambda l: (str(type(l)), l))))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('root', metavar='ROOT', help='campaign folder')
    parser.add_argument('-o', '--output', default=None,
                        help='folder for the CSV tables (default: ROOT/../baseline-out)')
    parser.add_argument('--plot', action='store_true',
                        help="also draw the notebook's figures (matplotlib, PDF and PNG), "
                             "as plot_fill_experiment and plot_loss_only do")
    args = parser.parse_args()
    out_dir = args.output or os.path.join(os.path.dirname(os.path.abspath(args.root)), 'baseline-out')
    os.makedirs(out_dir, exist_ok=True)

    t_start = _time.perf_counter()
    exps = experiments_and_labels(args.root)
    if not exps:
        sys.exit("error: no run folder under '{}'".format(args.root))

    # The notebook calls these once with one list of experiments and one list
    # of labels; trials may differ between experiments here, so call them per
    # experiment and concatenate.
    failover_losses = pd.concat(
        [read_iperf_experiment_losses(args.root, [exp], labels) for exp, labels in exps],
        ignore_index=True)
    failover_tput = pd.concat(
        [read_iperf_experiments(args.root, [exp], labels) for exp, labels in exps],
        ignore_index=True)

    loss_bands = []
    tput_bands = []
    for exp, _ in exps:
        # as plot_loss_only / plot_failover_loss: percent, mult=1
        df2 = failover_losses[failover_losses.experiment == exp]
        df2 = df2.assign(value=df2.value * 100)
        loss_bands.append(fill_experiment(df2, roll=0, mult=1).assign(experiment=exp))
        # as plot_failover: default mult=1e-3 (Mbit/s -> Gbit/s)
        df = failover_tput[failover_tput.experiment == exp]
        tput_bands.append(fill_experiment(df, roll=0).assign(experiment=exp))
    loss_bands = pd.concat(loss_bands, ignore_index=True)
    tput_bands = pd.concat(tput_bands, ignore_index=True)

    failover_losses.to_csv(os.path.join(out_dir, 'loss_series.csv'), index=False)
    failover_tput.to_csv(os.path.join(out_dir, 'throughput_series.csv'), index=False)
    loss_bands.to_csv(os.path.join(out_dir, 'loss_bands.csv'), index=False)
    tput_bands.to_csv(os.path.join(out_dir, 'throughput_bands.csv'), index=False)
    if args.plot:
        plot_bands(failover_losses, failover_tput, exps, out_dir)
    t_end = _time.perf_counter()

    runs = sum(len(labels) for _, labels in exps)
    print('baseline: {} runs in {} experiments; import {:.3f} s, analysis {:.3f} s, total {:.3f} s'
          .format(runs, len(exps), _T_IMPORTED - _T0, t_end - t_start, t_end - _T0),
          file=sys.stderr)


if __name__ == '__main__':
    main()
