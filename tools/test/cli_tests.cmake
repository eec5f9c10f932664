# Command-line behaviour of loadmodel, benchmodel, bench_all and render: exit statuses (0 success, 1 failed work,
# 2 bad command line) and the messages that explain them. Each test runs one command through
# expect_cli.cmake. The successful runs use a bundled example model; render also needs the upstream example
# WAV of the shared data (found from NAM_REFERENCE_DIR, else beside the project) and is reported as skipped
# when it is missing.

if(DEFINED ENV{NAM_REFERENCE_DIR})
  set(NAM_CLI_SHARED_DIR $ENV{NAM_REFERENCE_DIR}/..)
else()
  set(NAM_CLI_SHARED_DIR ${PROJECT_SOURCE_DIR}/../shared)
endif()
set(NAM_CLI_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/expect_cli.cmake)
set(NAM_CLI_MODEL ${PROJECT_SOURCE_DIR}/example_models/a1-nano.nam)
set(NAM_CLI_WAV ${NAM_CLI_SHARED_DIR}/upstream/example_audio/input.wav)
set(NAM_CLI_NOT_A_MODEL ${NAM_CLI_SCRIPT}) # exists, but is not JSON
set(NAM_CLI_MISSING ${CMAKE_CURRENT_BINARY_DIR}/no_such_file.nam)
set(NAM_CLI_OUTPUT_DIR ${CMAKE_CURRENT_BINARY_DIR}/cli_output)
file(MAKE_DIRECTORY ${NAM_CLI_OUTPUT_DIR})

# nam_cli_test(<name> EXIT <status> [STDOUT <text>] [STDERR <text>] [REQUIRES <file>...] [WRITES <file>]
#              COMMAND <program> <args>...)
function(nam_cli_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "EXIT;STDOUT;STDERR;WRITES" "REQUIRES;COMMAND")
  string(JOIN "|" required ${arg_REQUIRES})
  add_test(NAME cli.${name}
    COMMAND ${CMAKE_COMMAND} "-DEXPECT_EXIT=${arg_EXIT}" "-DEXPECT_STDOUT=${arg_STDOUT}"
            "-DEXPECT_STDERR=${arg_STDERR}" "-DREQUIRES=${required}" "-DEXPECT_FILE=${arg_WRITES}"
            -P ${NAM_CLI_SCRIPT} -- ${arg_COMMAND})
  set_tests_properties(cli.${name} PROPERTIES SKIP_REGULAR_EXPRESSION "CLI test skipped:" TIMEOUT 60)
endfunction()

# loadmodel
set(nam_cli_tool $<TARGET_FILE:loadmodel>)
nam_cli_test(loadmodel.help EXIT 0 STDOUT "usage: loadmodel" COMMAND ${nam_cli_tool} --help)
nam_cli_test(loadmodel.no_arguments EXIT 2 STDERR "no model file given" COMMAND ${nam_cli_tool})
nam_cli_test(loadmodel.unknown_option EXIT 2 STDERR "unknown option --verbose"
             COMMAND ${nam_cli_tool} --verbose ${NAM_CLI_MODEL})
nam_cli_test(loadmodel.two_models EXIT 2 STDERR "expected one model file" COMMAND ${nam_cli_tool} a.nam b.nam)
nam_cli_test(loadmodel.missing_file EXIT 1 STDERR "does not exist" COMMAND ${nam_cli_tool} ${NAM_CLI_MISSING})
nam_cli_test(loadmodel.not_a_model EXIT 1 STDERR "expect_cli.cmake" COMMAND ${nam_cli_tool} ${NAM_CLI_NOT_A_MODEL})
nam_cli_test(loadmodel.example EXIT 0 STDOUT "WaveNet" REQUIRES ${NAM_CLI_MODEL} COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL})
# Every convolution of the bundled A1 nano preset has a templated kernel.
nam_cli_test(loadmodel.kernels EXIT 0 STDOUT "templated:            64 of 64 convolutions" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --kernels ${NAM_CLI_MODEL})
# A container's weights are its submodels' (the upstream A2: 1871 and 12146).
nam_cli_test(loadmodel.container_weights EXIT 0 STDOUT "weights:              14017 (in its submodels)"
             REQUIRES ${NAM_CLI_SHARED_DIR}/upstream/example_models/A2.nam
             COMMAND ${nam_cli_tool} ${NAM_CLI_SHARED_DIR}/upstream/example_models/A2.nam)
# With the fast tanh each of its 20 plain layers reports whether it runs as one kernel (which depends on the ISA).
nam_cli_test(loadmodel.kernels_fast_tanh EXIT 0 STDOUT "64 convolutions, 20 layers that may run as one kernel"
             REQUIRES ${NAM_CLI_MODEL} COMMAND ${nam_cli_tool} --kernels --fast-tanh ${NAM_CLI_MODEL})

# benchmodel
set(nam_cli_tool $<TARGET_FILE:benchmodel>)
nam_cli_test(benchmodel.help EXIT 0 STDOUT "usage: benchmodel" COMMAND ${nam_cli_tool} --help)
nam_cli_test(benchmodel.no_arguments EXIT 2 STDERR "no model file given" COMMAND ${nam_cli_tool})
nam_cli_test(benchmodel.unknown_option EXIT 2 STDERR "unknown option --fast"
             COMMAND ${nam_cli_tool} --fast ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.buffer_without_value EXIT 2 STDERR "option --buffer needs a value"
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL} --buffer)
nam_cli_test(benchmodel.buffer_not_a_number EXIT 2 STDERR "invalid --buffer value '64k'"
             COMMAND ${nam_cli_tool} --buffer 64k ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.buffer_zero EXIT 2 STDERR "invalid --buffer value '0'"
             COMMAND ${nam_cli_tool} --buffer 0 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.buffer_too_large EXIT 2 STDERR "from 1 to 65536"
             COMMAND ${nam_cli_tool} --buffer 100000 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.runs_zero EXIT 2 STDERR "invalid --runs value '0'" COMMAND ${nam_cli_tool} --runs 0 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.slim_out_of_range EXIT 2 STDERR "invalid --slim value '1.5'"
             COMMAND ${nam_cli_tool} --slim 1.5 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.slim_not_a_number EXIT 2 STDERR "invalid --slim value 'nan'"
             COMMAND ${nam_cli_tool} --slim nan ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.isa_unknown EXIT 2 STDERR "expected baseline, avx2 or avx512"
             COMMAND ${nam_cli_tool} --isa sse9 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.generic EXIT 0 STDOUT "kernels:          generic path (--generic)" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --generic --runs 1 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.isa_baseline EXIT 0 STDOUT "kernels:          templated kernels, baseline" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --isa baseline --runs 1 ${NAM_CLI_MODEL})
# Smoke runs of the documented benchmarks (docs/benchmarks.md): the buffer-size sweep, and a long Linear IR
# (4096 taps: the partitioned FFT path in auto mode).
nam_cli_test(benchmodel.sweep EXIT 0 STDOUT "  2048" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --sweep --runs 1 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.linear_ir EXIT 0 STDOUT "architecture:     Linear"
             REQUIRES ${NAM_CLI_SHARED_DIR}/reference/models/linear-4096.nam
             COMMAND ${nam_cli_tool} --runs 1 ${NAM_CLI_SHARED_DIR}/reference/models/linear-4096.nam)
nam_cli_test(benchmodel.two_models EXIT 2 STDERR "expected one model file" COMMAND ${nam_cli_tool} a.nam b.nam)
nam_cli_test(benchmodel.missing_file EXIT 1 STDERR "does not exist" COMMAND ${nam_cli_tool} ${NAM_CLI_MISSING})
nam_cli_test(benchmodel.not_a_model EXIT 1 STDERR "expect_cli.cmake" COMMAND ${nam_cli_tool} ${NAM_CLI_NOT_A_MODEL})
nam_cli_test(benchmodel.slim_needs_slimmable_model EXIT 1 STDERR "is not slimmable" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --slim 0.5 ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.original_invocation EXIT 0 STDOUT "real-time factor:" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL})
nam_cli_test(benchmodel.all_options EXIT 0 STDOUT "settings:         buffer 37 frames, fast tanh off"
             REQUIRES ${NAM_CLI_MODEL} COMMAND ${nam_cli_tool} --buffer 37 --no-fast-tanh --runs 2 --verbose ${NAM_CLI_MODEL})

# bench_all
set(nam_cli_tool $<TARGET_FILE:bench_all>)
nam_cli_test(bench_all.help EXIT 0 STDOUT "usage: bench_all" COMMAND ${nam_cli_tool} --help)
nam_cli_test(bench_all.no_arguments EXIT 2 STDERR "no model file or directory given" COMMAND ${nam_cli_tool})
nam_cli_test(bench_all.unknown_option EXIT 2 STDERR "unknown option --sweep"
             COMMAND ${nam_cli_tool} --sweep ${NAM_CLI_MODEL})
nam_cli_test(bench_all.runs_zero EXIT 2 STDERR "invalid --runs value '0'" COMMAND ${nam_cli_tool} --runs 0 ${NAM_CLI_MODEL})
nam_cli_test(bench_all.example EXIT 0 STDOUT "| model | generic ms |" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --runs 1 ${NAM_CLI_MODEL})
# A model that cannot be loaded gets a row saying why; the others are still timed.
nam_cli_test(bench_all.missing_file EXIT 1 STDOUT "| no_such_file.nam | failed:" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --runs 1 ${NAM_CLI_MISSING} ${NAM_CLI_MODEL})
# --external times another program beside ours. fake_benchmodel prints the original benchmodel's output with a
# fixed 12.5 ms, and only when it gets the model path as its one argument: the path here has a space.
set(nam_cli_spaced_model "${NAM_CLI_OUTPUT_DIR}/a1 nano.nam")
if(EXISTS ${NAM_CLI_MODEL})
  configure_file(${NAM_CLI_MODEL} ${nam_cli_spaced_model} COPYONLY)
endif()
set(nam_cli_fake_external fake=$<TARGET_FILE:fake_benchmodel>)
nam_cli_test(bench_all.external_without_label EXIT 2 STDERR "invalid --external value 'nolabel': expected LABEL=PROGRAM"
             COMMAND ${nam_cli_tool} --external nolabel ${NAM_CLI_MODEL})
# Its time cell, then the ratio cell (whose value depends on our time).
nam_cli_test(bench_all.external_time EXIT 0 STDOUT "| 12.5 | " REQUIRES ${nam_cli_spaced_model}
             COMMAND ${nam_cli_tool} --runs 2 --external ${nam_cli_fake_external} ${nam_cli_spaced_model})
nam_cli_test(bench_all.external_ratio EXIT 0 STDOUT "x |" REQUIRES ${nam_cli_spaced_model}
             COMMAND ${nam_cli_tool} --runs 1 --external ${nam_cli_fake_external} ${nam_cli_spaced_model})
# A failing program gets a "failed:" cell, the rest of the row is still timed, and the exit status is 1.
nam_cli_test(bench_all.external_missing_program EXIT 1
             STDOUT "| failed: cannot run ${CMAKE_CURRENT_BINARY_DIR}/no_such_program: No such file or directory |"
             REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --runs 1 --external missing=${CMAKE_CURRENT_BINARY_DIR}/no_such_program ${NAM_CLI_MODEL})
nam_cli_test(bench_all.external_exit_status EXIT 1 STDOUT "exited with status 2 |" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --runs 1 --external render=$<TARGET_FILE:render> ${NAM_CLI_MODEL})
nam_cli_test(bench_all.external_without_time EXIT 1 STDOUT "printed no time line" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --runs 1 --external loadmodel=$<TARGET_FILE:loadmodel> ${NAM_CLI_MODEL})
unset(nam_cli_spaced_model)
unset(nam_cli_fake_external)

# render
set(nam_cli_tool $<TARGET_FILE:render>)
set(nam_cli_rendered ${NAM_CLI_OUTPUT_DIR}/render_example.wav)
nam_cli_test(render.help EXIT 0 STDOUT "usage: render" COMMAND ${nam_cli_tool} --help)
nam_cli_test(render.no_arguments EXIT 2 STDERR "got 0 files" COMMAND ${nam_cli_tool})
nam_cli_test(render.one_file EXIT 2 STDERR "got 1 file" COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL})
nam_cli_test(render.too_many_files EXIT 2 STDERR "too many arguments" COMMAND ${nam_cli_tool} a.nam b.wav c.wav d.wav)
nam_cli_test(render.unknown_option EXIT 2 STDERR "unknown option --gain" COMMAND ${nam_cli_tool} --gain 2 a.nam b.wav)
nam_cli_test(render.negative_buffer EXIT 2 STDERR "invalid --buffer value '-5'"
             COMMAND ${nam_cli_tool} --buffer -5 a.nam b.wav)
nam_cli_test(render.slim_without_value EXIT 2 STDERR "option --slim needs a value" COMMAND ${nam_cli_tool} a.nam b.wav --slim)
nam_cli_test(render.missing_model EXIT 1 STDERR "does not exist" COMMAND ${nam_cli_tool} ${NAM_CLI_MISSING} b.wav)
nam_cli_test(render.missing_input EXIT 1 STDERR "file does not exist" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL} ${CMAKE_CURRENT_BINARY_DIR}/no_such_input.wav)
nam_cli_test(render.input_not_a_wav EXIT 1 STDERR "not a RIFF/WAVE file" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL} ${NAM_CLI_MODEL})
nam_cli_test(render.slim_needs_slimmable_model EXIT 1 STDERR "is not slimmable" REQUIRES ${NAM_CLI_MODEL}
             COMMAND ${nam_cli_tool} --slim 1 ${NAM_CLI_MODEL} ${NAM_CLI_WAV})
nam_cli_test(render.unwritable_output EXIT 1 STDERR "cannot write WAV file" REQUIRES ${NAM_CLI_MODEL} ${NAM_CLI_WAV}
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL} ${NAM_CLI_WAV} ${NAM_CLI_OUTPUT_DIR}/no_such_dir/out.wav)
nam_cli_test(render.example EXIT 0 STDOUT "output: ${nam_cli_rendered}, 1 channel(s), 48000 Hz, 32-bit float"
             REQUIRES ${NAM_CLI_MODEL} ${NAM_CLI_WAV} WRITES ${nam_cli_rendered}
             COMMAND ${nam_cli_tool} ${NAM_CLI_MODEL} ${NAM_CLI_WAV} ${nam_cli_rendered})
# Renders the float file the previous test wrote, exercising the reader on the writer's output.
nam_cli_test(render.own_output EXIT 0 STDOUT "input:  ${nam_cli_rendered}, 1 channel(s), 48000 Hz, 32-bit float"
             REQUIRES ${NAM_CLI_MODEL} ${nam_cli_rendered} WRITES ${NAM_CLI_OUTPUT_DIR}/render_twice.wav
             COMMAND ${nam_cli_tool} --block 7 --fast-tanh ${NAM_CLI_MODEL} ${nam_cli_rendered} ${NAM_CLI_OUTPUT_DIR}/render_twice.wav)
# As the original's render, an input at another rate than the model's is refused (no resampling).
set(nam_cli_model_44k ${NAM_CLI_OUTPUT_DIR}/identity_44100.nam)
file(WRITE ${nam_cli_model_44k} [=[{"version": "0.5.4", "architecture": "Linear", "config": {"receptive_field": 1, "bias": false}, "weights": [1.0], "sample_rate": 44100, "metadata": {}}]=])
nam_cli_test(render.sample_rate_mismatch EXIT 1 STDERR "is at 48000 Hz but the model expects 44100 Hz"
             REQUIRES ${NAM_CLI_WAV} COMMAND ${nam_cli_tool} ${nam_cli_model_44k} ${NAM_CLI_WAV} ${NAM_CLI_OUTPUT_DIR}/refused.wav)
nam_cli_test(render.generic EXIT 0 STDOUT "kernels: generic path (--generic)"
             REQUIRES ${NAM_CLI_MODEL} ${NAM_CLI_WAV} WRITES ${NAM_CLI_OUTPUT_DIR}/render_generic.wav
             COMMAND ${nam_cli_tool} --generic ${NAM_CLI_MODEL} ${NAM_CLI_WAV} ${NAM_CLI_OUTPUT_DIR}/render_generic.wav)
set_tests_properties(cli.render.example PROPERTIES FIXTURES_SETUP nam_cli_rendered)
set_tests_properties(cli.render.own_output PROPERTIES FIXTURES_REQUIRED nam_cli_rendered)
unset(nam_cli_tool)
unset(nam_cli_rendered)
