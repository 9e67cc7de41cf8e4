set terminal pngcairo size 1100,500 font 'sans,9'
set output 'sparse.png'
set multiplot layout 1,2 title 'sparse copy: 819 of 8192 regions hold data, onto a new thin LV or sparse loop file (medians)'
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by -40 nomirror
set grid ytics
set yrange [0:*]
set title 'copy time (ms)'
unset key
plot 'sparse.dat' using 0:2:xtic(1) with boxes lc rgb '#4472c4', '' using 0:2:(sprintf('%.0f',$2)) with labels offset 0,0.7 font 'sans,7'
set title 'destination blocks allocated (64 KiB)'
set key top left font 'sans,8'
set yrange [0:9421]
plot 'sparse.dat' using 0:3:xtic(1) with boxes lc rgb '#ed7d31' notitle, '' using 0:3:(sprintf('%.0f',$3)) with labels offset 0,0.7 font 'sans,7' notitle, 819 with lines dt 2 lw 2 lc rgb '#70ad47' title 'least: data regions (819)', 8192 with lines dt 3 lc rgb '#c00000' title 'every block (8192)'
unset multiplot
