set terminal pngcairo size 1120,480 font 'sans,9'
set output 'copy-progress.png'
set multiplot layout 1,2 title 'copy progress: regions in sync vs time (sampled from dmsetup status every 100 ms; dd and fio: end time only)'
set xlabel 'seconds'
set ylabel '% in sync'
set yrange [0:105]
set grid
set key bottom right font 'sans,8'
set title 'set cpu (CPU-bound legs)'
set xrange [0:*]
set samples 2
set trange [0:1]
plot 'copy-progress.dat' index 0 using 1:2 with lines lw 2 title 'raid1-resync', 'copy-progress.dat' index 1 using 1:2 with lines lw 2 title 'im-full', 'copy-progress.dat' index 2 using 1:2 with lines lw 2 title 'im-full-meta', 'copy-progress.dat' index 5 using 1:2 with lines lw 2 title 'copy-writer', 'copy-progress.dat' index 6 using 1:2 with lines lw 2 title 'copy-writer-limit', '+' using ($1*3.350000):($1*100) every ::0::1 with lines dt 2 title 'dd (median)', '+' using ($1*0.749000):($1*100) every ::0::1 with lines dt 2 title 'fio-copy (median)'
set title 'set delay (both legs behind dm-delay)'
set xrange [0:*]
set samples 2
set trange [0:1]
plot 'copy-progress.dat' index 3 using 1:2 with lines lw 2 title 'im-full', 'copy-progress.dat' index 4 using 1:2 with lines lw 2 title 'im-full-meta', '+' using ($1*5.000000):($1*100) every ::0::1 with lines dt 2 title 'dd (median)', '+' using ($1*1.387000):($1*100) every ::0::1 with lines dt 2 title 'fio-copy (median)'
unset multiplot
